// Types of GET /v1/compliance/report and where each finding's evidence can be seen in the console.

/** One control evaluated on a source or the repository. */
export interface Finding {
  control: string;
  status: 'pass' | 'fail' | 'not-evaluated' | 'not-applicable';
  summary: string;
  evidence: Record<string, string | number | boolean>;
}

/** The compliance report (docs/compliance.md). */
export interface ComplianceReport {
  generatedAt: string;
  repositoryId: string;
  totals: Record<Finding['status'], number>;
  repository: Finding[];
  sources: { source: string; tenant?: string; findings: Finding[] }[];
}

/** The console screen that shows what a control rests on (keys, audit chain, schedules), if any. */
const CONTROL_SCREENS: Record<string, { path: string; label: string }> = {
  'kek-cryptoperiod': { path: '/keys', label: 'Keys' },
  encryption: { path: '/keys', label: 'Keys' },
  'audit-chain': { path: '/audit', label: 'Audit' },
  schedule: { path: '/schedules', label: 'Schedules' },
  frequency: { path: '/schedules', label: 'Schedules' },
  retention: { path: '/schedules', label: 'Schedules' },
};

/** Where a control's evidence is shown in the console. */
export function controlLink(control: string): { path: string; label: string } | undefined {
  return CONTROL_SCREENS[control];
}

/** The backup detail page an evidence value names (`backupId`, `lastBackupId`…), if it names one. */
export function evidenceLink(key: string, value: string | number | boolean): string | undefined {
  return /backupid$/i.test(key) && typeof value === 'string' && value !== '' ? `/backups/${encodeURIComponent(value)}` : undefined;
}
