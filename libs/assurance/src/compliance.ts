import type { AlertManager } from '@tresor/alerting';
import type { BackupRecord, Catalog } from '@tresor/catalog';
import type { AuditVerifyReport, ComplianceReport, Evidence, Finding } from '@tresor/contracts';
import type { KekVersion, Repository, RetentionPolicy } from '@tresor/repository';
import { archiveKey, listKekVersions, verifyRepositoryAudit } from '@tresor/repository';
import type { LoadedSchedule } from '@tresor/scheduling';
import { checkCryptoperiods } from './checks.js';
import type { MonitorConfig } from './config.js';
import type { DrillRecord } from './results.js';

export type { ComplianceReport, ControlStatus, Evidence, Finding } from '@tresor/contracts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A schedule as the controls read it: its id, its timing, and when it is due. */
export type ScheduleFacts = Pick<LoadedSchedule, 'id' | 'source' | 'cron' | 'everyMs' | 'timezone' | 'paused' | 'timetable'>;

/** The dual-control policy that restores of a source are held to, where one is enforced (the cluster gateway). */
export interface DualControlFacts {
  readonly sensitive: boolean;
  readonly approvals: number;
  readonly expirySeconds: number;
}

/**
 * Where the report's facts come from: a standalone repository (`repositorySubject`), or a cluster
 * (MongoDB catalog, storage through the storage gateway, the audit service).
 */
export interface ComplianceSubject {
  readonly repositoryId: string;
  readonly catalog: Pick<Catalog, 'listSources' | 'listBackups'>;
  readonly retention: Repository['config']['retention'];
  /** KEK type (passphrase, pkcs11, ...). */
  readonly kek: string;
  /** Storage of the archives, as named in findings. */
  readonly storage: string;
  /** Until when the archive of a backup is under a WORM lock; absent: the storage cannot lock objects. */
  readonly retainedUntil?: (backupId: string) => Promise<Date | undefined>;
  kekVersions(): Promise<KekVersion[]>;
  verifyAudit(): Promise<Pick<AuditVerifyReport, 'ok' | 'entries' | 'checkpoints' | 'lastSeq' | 'lastHash' | 'problem'>>;
  /** The enforced dual-control policy of a source; absent: nothing enforces dual control here (standalone). */
  readonly dualControl?: (location: string) => Promise<DualControlFacts>;
  /** The tenant a source belongs to, where tenants exist. */
  readonly tenantOf?: (location: string) => Promise<string | undefined>;
}

export interface ComplianceInputs {
  readonly schedules: readonly ScheduleFacts[];
  /** Why no schedules could be read (a missing or invalid file): reported in the schedule finding. */
  readonly schedulesProblem?: string;
  readonly drills: readonly DrillRecord[];
  readonly now?: number;
}

/** The facts of a standalone repository: its catalog and storage, its own audit log, no enforced dual control. */
export function repositorySubject(repo: Repository): ComplianceSubject {
  const store = repo.store;
  return {
    repositoryId: repo.config.repositoryId,
    catalog: repo.catalog,
    retention: repo.config.retention,
    kek: repo.descriptor.kek.type,
    storage: store.location,
    ...(store.retainedUntil ? { retainedUntil: (id: string) => store.retainedUntil!(archiveKey(id)) } : {}),
    kekVersions: () => listKekVersions(repo),
    verifyAudit: () => verifyRepositoryAudit(repo.dir),
  };
}

/** Every control docs/compliance.md lists, over every source of the subject. */
export async function complianceReport(subject: ComplianceSubject, config: MonitorConfig, inputs: ComplianceInputs): Promise<ComplianceReport> {
  const now = inputs.now ?? Date.now();
  const c = config.compliance;
  const sources = [];
  for (const source of await subject.catalog.listSources()) {
    const backups = (await subject.catalog.listBackups({ sourceId: source.id })).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const schedules = inputs.schedules.filter((s) => s.source === source.location && !s.paused);
    const marked = config.sources[source.location];
    const findings: Finding[] = [
      scheduleControl(source.location, schedules, inputs.schedulesProblem),
      frequencyControl(backups, schedules, c.maxIntervalHours, now),
      retentionControl(source.location, subject.retention, c.minRetentionDays),
      encryptionControl(subject.kek, backups),
      await immutabilityControl(subject, backups, marked?.immutable ?? false, now),
      drillControl(source.location, inputs.drills, c.drillWithinDays, now),
      dualControl(marked?.sensitive, subject.dualControl ? await subject.dualControl(source.location) : undefined),
    ];
    const tenant = await subject.tenantOf?.(source.location);
    sources.push({ source: source.location, ...(tenant ? { tenant } : {}), findings });
  }
  const repository = [kekControl(subject.kek, await subject.kekVersions(), now), await auditControl(subject)];
  const all = [...repository, ...sources.flatMap((s) => s.findings)];
  const totals = { pass: 0, fail: 0, 'not-evaluated': 0, 'not-applicable': 0 };
  for (const f of all) totals[f.status]++;
  return { generatedAt: new Date(now).toISOString(), repositoryId: subject.repositoryId, totals, repository, sources };
}

function scheduleControl(source: string, schedules: readonly ScheduleFacts[], problem: string | undefined): Finding {
  if (schedules.length > 0) {
    const s = schedules[0]!;
    return { control: 'schedule', status: 'pass', summary: `scheduled by ${schedules.map((x) => x.id).join(', ')}`, evidence: { scheduleId: s.id, ...(s.cron ? { cron: s.cron, timezone: s.timezone } : { everyMs: s.everyMs! }) } };
  }
  return { control: 'schedule', status: 'fail', summary: `no active schedule backs up ${source}${problem ? ` (${problem})` : ''}`, evidence: problem ? { problem } : {} };
}

/** The longest gap between two due times of a schedule over the next week (cron gaps differ: weekdays only, …). */
function scheduleIntervalMs(s: ScheduleFacts, now: number): number | undefined {
  let t = s.timetable.atOrAfter(new Date(now));
  let longest: number | undefined;
  for (let i = 0; i < 200 && t && t.getTime() < now + 8 * DAY_MS; i++) {
    const next = s.timetable.atOrAfter(new Date(t.getTime() + 1000));
    if (!next) break;
    longest = Math.max(longest ?? 0, next.getTime() - t.getTime());
    t = next;
  }
  return longest;
}

function frequencyControl(backups: readonly BackupRecord[], schedules: readonly ScheduleFacts[], maxHours: number, now: number): Finding {
  const maxMs = maxHours * HOUR_MS;
  const last = backups.at(-1);
  const evidence: Evidence = { maxIntervalHours: maxHours };
  if (!last) return { control: 'frequency', status: 'fail', summary: 'no backup at all', evidence };
  Object.assign(evidence, { lastBackupId: last.id, lastBackupAt: last.createdAt });
  const ageMs = now - Date.parse(last.createdAt);
  if (ageMs > maxMs) return { control: 'frequency', status: 'fail', summary: `last backup ${(ageMs / HOUR_MS).toFixed(1)} h ago, more than ${maxHours} h`, evidence };
  const intervals = schedules.map((s) => scheduleIntervalMs(s, now)).filter((x): x is number => x !== undefined);
  if (intervals.length > 0) {
    const shortest = Math.min(...intervals);
    evidence.scheduleIntervalHours = Math.round((shortest / HOUR_MS) * 100) / 100;
    if (shortest > maxMs) return { control: 'frequency', status: 'fail', summary: `the schedule runs every ${(shortest / HOUR_MS).toFixed(1)} h at best, more than ${maxHours} h`, evidence };
  }
  return { control: 'frequency', status: 'pass', summary: `last backup ${(ageMs / HOUR_MS).toFixed(1)} h ago${intervals.length ? `, scheduled every ${evidence.scheduleIntervalHours} h` : ''}`, evidence };
}

/** Days of history a retention policy keeps at least (the longest of its time-based rules). */
function keptDays(p: RetentionPolicy): number {
  const within = p.keepWithin ? parseWithinDays(p.keepWithin) : 0;
  return Math.max(p.retentionDays ?? 0, within, p.keepDaily ?? 0, (p.keepWeekly ?? 0) * 7, (p.keepMonthly ?? 0) * 30, (p.keepYearly ?? 0) * 365);
}

function parseWithinDays(text: string): number {
  const units: Record<string, number> = { h: 1 / 24, d: 1, w: 7, m: 30, y: 365 };
  return [...text.matchAll(/(\d+)([hdwmy])/g)].reduce((sum, m) => sum + Number(m[1]) * units[m[2]!]!, 0);
}

function retentionControl(source: string, retention: ComplianceSubject['retention'], minDays: number): Finding {
  const policy = retention?.sources?.[source] ?? retention?.default;
  if (!policy) return { control: 'retention', status: 'pass', summary: 'no retention policy: `tresor forget` deletes nothing, every backup is kept', evidence: { minRetentionDays: minDays, policy: 'none' } };
  const days = keptDays(policy);
  const evidence: Evidence = { minRetentionDays: minDays, keptDays: days, policy: JSON.stringify(policy), ...(policy.maxBackups ? { maxBackups: policy.maxBackups } : {}) };
  if (days < minDays) return { control: 'retention', status: 'fail', summary: `the retention policy keeps ${days} day(s) of history, fewer than ${minDays}`, evidence };
  return { control: 'retention', status: 'pass', summary: `the retention policy keeps ${days} day(s) of history`, evidence };
}

function encryptionControl(kek: string, backups: readonly BackupRecord[]): Finding {
  // Every archive is encrypted by construction (docs/format.md): what is checked is that the repository has a KEK.
  const last = backups.at(-1);
  return { control: 'encryption', status: 'pass', summary: `archives are encrypted (AES-256-GCM) under data keys wrapped by the repository KEK (${kek})`, evidence: { kek, ...(last ? { lastBackupId: last.id, archiveSha256: last.archiveSha256 } : {}) } };
}

async function immutabilityControl(subject: ComplianceSubject, backups: readonly BackupRecord[], required: boolean, now: number): Promise<Finding> {
  if (!required) return { control: 'immutability', status: 'not-applicable', summary: 'not required for this source (sources.<location>.immutable in monitor.json)', evidence: {} };
  const last = backups.at(-1);
  if (!last) return { control: 'immutability', status: 'fail', summary: 'required, but the source has no backup', evidence: {} };
  if (!subject.retainedUntil) return { control: 'immutability', status: 'fail', summary: `required, but storage ${subject.storage} cannot lock objects (needs S3 Object Lock)`, evidence: { storage: subject.storage, lastBackupId: last.id } };
  const until = await subject.retainedUntil(last.id);
  const evidence: Evidence = { storage: subject.storage, lastBackupId: last.id, ...(until ? { retainedUntil: until.toISOString() } : {}) };
  if (!until || until.getTime() <= now) return { control: 'immutability', status: 'fail', summary: `the archive of ${last.id} is not under a WORM lock`, evidence };
  return { control: 'immutability', status: 'pass', summary: `the archive of ${last.id} is locked until ${until.toISOString()}`, evidence };
}

function drillControl(source: string, drills: readonly DrillRecord[], withinDays: number, now: number): Finding {
  const ok = drills.filter((d) => d.source === source && d.ok).sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0];
  const evidence: Evidence = { drillWithinDays: withinDays };
  if (ok) Object.assign(evidence, { drillId: ok.id, backupId: ok.backupId, finishedAt: ok.finishedAt, rtoSeconds: ok.rtoSeconds });
  if (!ok || now - Date.parse(ok.finishedAt) > withinDays * DAY_MS) {
    return { control: 'restore-drill', status: 'fail', summary: ok ? `last successful restore drill ${ok.finishedAt}, more than ${withinDays} days ago` : 'no successful restore drill', evidence };
  }
  return { control: 'restore-drill', status: 'pass', summary: `restore drill of ${ok.backupId} passed at ${ok.finishedAt} (RTO ${ok.rtoSeconds.toFixed(2)} s)`, evidence };
}

function dualControl(marked: boolean | undefined, enforced: DualControlFacts | undefined): Finding {
  if (!enforced) {
    // A standalone repository restores for whoever holds the key: only the cluster gateway enforces M-of-N approvals.
    return {
      control: 'dual-control',
      status: marked ? 'not-evaluated' : 'not-applicable',
      summary: marked ? 'not evaluated: dual control is enforced by the cluster gateway (TRESOR_DUAL_CONTROL), not by a standalone repository' : 'source not marked sensitive',
      evidence: {},
    };
  }
  const evidence: Evidence = { sensitive: enforced.sensitive, approvals: enforced.approvals, expirySeconds: enforced.expirySeconds };
  if (!enforced.sensitive) {
    if (marked) return { control: 'dual-control', status: 'fail', summary: 'marked sensitive in monitor.json, but TRESOR_DUAL_CONTROL does not hold its restores for approval', evidence };
    return { control: 'dual-control', status: 'not-applicable', summary: 'source not sensitive (TRESOR_DUAL_CONTROL)', evidence };
  }
  if (enforced.approvals < 2) return { control: 'dual-control', status: 'fail', summary: `restores need only ${enforced.approvals} approval: dual control needs at least 2 custodians`, evidence };
  return { control: 'dual-control', status: 'pass', summary: `restores wait for ${enforced.approvals} custodian approvals (within ${enforced.expirySeconds} s)`, evidence };
}

function kekControl(kek: string, versions: Parameters<typeof checkCryptoperiods>[0], now: number): Finding {
  if (versions.length === 0) {
    return { control: 'kek-cryptoperiod', status: 'not-evaluated', summary: `the repository KEK (${kek}) has no versions to age until the first \`tresor keys rotate\` (docs/keys.md)`, evidence: { kek } };
  }
  const results = checkCryptoperiods(versions, 0, now);
  const overdue = results.filter((r) => r.status === 'critical');
  const evidence: Evidence = Object.fromEntries(results.map((r) => [r.target, `created ${r.details.createdAt}, rotate by ${r.details.rotateBy}`]));
  if (overdue.length > 0) return { control: 'kek-cryptoperiod', status: 'fail', summary: overdue.map((r) => r.summary).join('; '), evidence };
  return { control: 'kek-cryptoperiod', status: 'pass', summary: `${results.length} active KEK version(s) within their cryptoperiod`, evidence };
}

async function auditControl(subject: ComplianceSubject): Promise<Finding> {
  try {
    const r = await subject.verifyAudit();
    const evidence: Evidence = { entries: r.entries, checkpoints: r.checkpoints, lastSeq: r.lastSeq, ...(r.lastHash ? { lastHash: r.lastHash } : {}) };
    if (!r.ok) return { control: 'audit-chain', status: 'fail', summary: `audit chain broken at entry ${r.problem?.seq}: ${r.problem?.message}`, evidence: { ...evidence, ...(r.problem ? { problemKind: r.problem.kind, problemSeq: r.problem.seq } : {}) } };
    return { control: 'audit-chain', status: 'pass', summary: `audit chain of ${r.entries} entries verified`, evidence };
  } catch (err) {
    return { control: 'audit-chain', status: 'fail', summary: `audit log cannot be verified: ${(err as Error).message}`, evidence: {} };
  }
}

/** Raises WARNING `compliance-<control>` for each failed control and resolves it once the control passes. */
export async function alertOnCompliance(manager: AlertManager, report: ComplianceReport): Promise<void> {
  const items = [...report.repository.map((f) => ({ f, source: undefined })), ...report.sources.flatMap((s) => s.findings.map((f) => ({ f, source: s.source })))];
  for (const { f, source } of items) {
    const identity = { rule: `compliance-${f.control}`, ...(source ? { source } : {}) };
    if (f.status === 'fail') await manager.raise({ ...identity, level: 'WARNING', summary: `${source ?? 'repository'}: ${f.summary}`, details: f.evidence });
    else if (f.status === 'pass') await manager.resolve(identity);
  }
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The report as one self-contained HTML page (no scripts, no external resources). */
export function renderComplianceHtml(report: ComplianceReport): string {
  const rows = (scope: string, findings: readonly Finding[]) =>
    findings
      .map((f) => `<tr class="${f.status}"><td>${esc(scope)}</td><td>${esc(f.control)}</td><td>${f.status}</td><td>${esc(f.summary)}</td><td>${esc(Object.entries(f.evidence).map(([k, v]) => `${k}=${v}`).join(', '))}</td></tr>`)
      .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Tresor compliance report ${esc(report.repositoryId)}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px;text-align:left;vertical-align:top}.fail td{background:#fdd}.pass td{background:#dfd}</style></head>
<body><h1>Tresor compliance report</h1>
<p>Repository ${esc(report.repositoryId)}, generated ${esc(report.generatedAt)}: ${report.totals.pass} passed, ${report.totals.fail} failed, ${report.totals['not-evaluated']} not evaluated, ${report.totals['not-applicable']} not applicable.</p>
<table><thead><tr><th>Scope</th><th>Control</th><th>Status</th><th>Finding</th><th>Evidence</th></tr></thead><tbody>
${rows('repository', report.repository)}
${report.sources.map((s) => rows(s.source, s.findings)).join('\n')}
</tbody></table></body></html>
`;
}
