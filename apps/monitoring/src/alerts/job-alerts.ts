import type { AlertManager } from '@tresor/alerting';
import type { CloudEvent, EventData } from '@tresor/contracts';
import { EVENTS, eventType } from '@tresor/contracts';

/** Rules this service raises from job outcomes (docs/alerts.md lists every rule). */
export const JOB_RULES = { backupFailed: 'backup-failed', verifyFailed: 'verify-failed' } as const;

/** Finds the source location of a backup job whose `backup.requested` this replica did not see. */
export type JobSourceLookup = (jobId: string) => Promise<string | undefined>;

/** Jobs remembered between their request and their outcome; older ones fall back to the lookup. */
const rememberedJobs = 10_000;

const types = {
  backupRequested: eventType(EVENTS.backupRequested.name, EVENTS.backupRequested.version),
  backupFailed: eventType(EVENTS.backupFailed.name, EVENTS.backupFailed.version),
  backupCompleted: eventType(EVENTS.backupCompleted.name, EVENTS.backupCompleted.version),
  verifyRequested: eventType(EVENTS.verifyRequested.name, EVENTS.verifyRequested.version),
  verifyFailed: eventType(EVENTS.verifyFailed.name, EVENTS.verifyFailed.version),
  verifyCompleted: eventType(EVENTS.verifyCompleted.name, EVENTS.verifyCompleted.version),
};

/**
 * Turns job events into alert reports: a failed backup raises `backup-failed` for its source
 * (CRITICAL) and the next completed backup of that source resolves it; a verify that finds a
 * problem raises `verify-failed` (CRITICAL) for the backup, one that cannot run raises it as
 * WARNING, and the next passing verify of that backup resolves it.
 */
export class JobAlertRules {
  private readonly sources = new Map<string, string>();
  private readonly verifiedBackups = new Map<string, string>();

  constructor(
    private readonly manager: AlertManager,
    private readonly lookupSource: JobSourceLookup = async () => undefined,
  ) {}

  /** Handles one validated CloudEvent; events of other types are ignored. */
  async handle(event: CloudEvent<unknown>): Promise<void> {
    switch (event.type) {
      case types.backupRequested: {
        const data = event.data as EventData<'backupRequested'>;
        this.remember(this.sources, data.jobId, data.source.location);
        return;
      }
      case types.backupFailed: {
        const data = event.data as EventData<'backupFailed'>;
        const source = this.sources.get(data.jobId) ?? (await this.lookupSource(data.jobId));
        await this.manager.raise({
          rule: JOB_RULES.backupFailed,
          level: 'CRITICAL',
          // Without its source the failure still alerts, keyed by the job so it is not lost.
          ...(source ? { source } : { key: data.jobId }),
          summary: `backup of ${source ?? `job ${data.jobId}`} failed: ${data.error.message}`,
          details: { jobId: data.jobId, attempt: data.attempt, code: data.error.code },
        });
        return;
      }
      case types.backupCompleted: {
        const data = event.data as EventData<'backupCompleted'>;
        const source = this.sources.get(data.jobId) ?? (await this.lookupSource(data.jobId));
        this.sources.delete(data.jobId);
        if (source) await this.manager.resolve({ rule: JOB_RULES.backupFailed, source });
        return;
      }
      case types.verifyRequested: {
        const data = event.data as EventData<'verifyRequested'>;
        this.remember(this.verifiedBackups, data.jobId, data.backupId);
        return;
      }
      case types.verifyCompleted: {
        const data = event.data as EventData<'verifyCompleted'>;
        this.verifiedBackups.delete(data.jobId);
        if (data.ok) return void (await this.manager.resolve({ rule: JOB_RULES.verifyFailed, key: data.backupId }));
        await this.manager.raise({
          rule: JOB_RULES.verifyFailed,
          level: 'CRITICAL',
          key: data.backupId,
          summary: `verify of backup ${data.backupId} found a problem: ${data.problem ?? 'not intact'}`,
          details: { jobId: data.jobId, backupId: data.backupId, deep: data.deep },
        });
        return;
      }
      case types.verifyFailed: {
        const data = event.data as EventData<'verifyFailed'>;
        const backupId = this.verifiedBackups.get(data.jobId);
        this.verifiedBackups.delete(data.jobId);
        await this.manager.raise({
          rule: JOB_RULES.verifyFailed,
          level: 'WARNING',
          key: backupId ?? data.jobId,
          summary: `verify of ${backupId ? `backup ${backupId}` : `job ${data.jobId}`} could not run: ${data.error.message}`,
          details: { jobId: data.jobId, code: data.error.code, ...(backupId ? { backupId } : {}) },
        });
        return;
      }
    }
  }

  private remember(map: Map<string, string>, jobId: string, value: string): void {
    map.set(jobId, value);
    // Maps iterate in insertion order: the first key is the oldest job.
    if (map.size > rememberedJobs) map.delete(map.keys().next().value!);
  }
}
