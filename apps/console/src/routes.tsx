// THE list of screens: the router and the navigation are both built from it. Each screen adds
// its own line(s) here; `nav: false` keeps detail pages (e.g. /backups/:id) out of the menu.
import type { ReactElement } from 'react';
import { ComplianceScreen } from './screens/compliance/ComplianceScreen';
import { KeysScreen } from './screens/keys/KeysScreen';
import { SchedulesScreen } from './screens/schedules/SchedulesScreen';
import { BackupDetailScreen } from './screens/backups/BackupDetailScreen';
import { BackupsScreen } from './screens/backups/BackupsScreen';
import { OverviewScreen } from './screens/overview/OverviewScreen';
import { SourcesScreen } from './screens/sources/SourcesScreen';
import { ApprovalsScreen } from './screens/approvals/ApprovalsScreen';
import { AuditScreen } from './screens/audit/AuditScreen';
import { RestoreScreen } from './screens/restore/RestoreScreen';

/** One screen of the console. */
export interface ConsoleRoute {
  /** react-router path. */
  path: string;
  /** Menu label (and what the screen is called in docs/console.md). */
  label: string;
  /** Permission (libs/auth roles.ts) the user needs to see it; the gateway enforces it again. */
  permission: string;
  element: ReactElement;
  /** Show in the navigation (default true). */
  nav?: boolean;
}

export const ROUTES: ConsoleRoute[] = [
  { path: '/', label: 'Overview', permission: 'health:read', element: <OverviewScreen /> },
  { path: '/sources', label: 'Sources', permission: 'sources:read', element: <SourcesScreen /> },
  { path: '/backups', label: 'Backups', permission: 'backups:read', element: <BackupsScreen /> },
  { path: '/backups/:id', label: 'Backup', permission: 'backups:read', element: <BackupDetailScreen />, nav: false },
  { path: '/restore', label: 'Restore', permission: 'restores:create', element: <RestoreScreen /> },
  { path: '/approvals', label: 'Approvals', permission: 'approvals:read', element: <ApprovalsScreen /> },
  { path: '/audit', label: 'Audit', permission: 'audit:read', element: <AuditScreen /> },
  { path: '/schedules', label: 'Schedules', permission: 'schedules:read', element: <SchedulesScreen /> },
  { path: '/compliance', label: 'Compliance', permission: 'compliance:read', element: <ComplianceScreen /> },
  { path: '/keys', label: 'Keys', permission: 'keys:read', element: <KeysScreen /> },
];
