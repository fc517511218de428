// THE list of screens: the router and the navigation are both built from it. Each screen adds
// its own line(s) here; `nav: false` keeps detail pages (e.g. /backups/:id) out of the menu.
import type { ReactElement } from 'react';
import { OverviewScreen } from './screens/overview/OverviewScreen';

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
];
