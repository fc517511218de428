import { IoError, TresorError } from '@tresor/errors';
import { RepositoryAuditLog } from '@tresor/repository';
import type { GlobalOptions } from './context.js';
import { repoDir } from './context.js';

/**
 * Runs a state-changing standalone operation under the repository's audit log: an entry that it
 * starts (if that cannot be written, the operation does not run: audit writes are not
 * fire-and-forget), then one with its outcome. In remote mode the gateway audits instead.
 */
export async function audited<T>(
  options: GlobalOptions,
  action: string,
  target: string | undefined,
  details: Record<string, unknown>,
  work: () => Promise<T>,
  resultDetails: (result: T) => Record<string, unknown> = () => ({}),
): Promise<T> {
  const audit = await RepositoryAuditLog.open(repoDir(options));
  const started = await audit.append({ action, outcome: 'success', ...(target ? { target } : {}), details: { ...details, phase: 'started' } });
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await audit
      .append({ action, outcome: 'failure', ...(target ? { target } : {}), details: { ...details, phase: 'finished', startedSeq: started.seq, error: err instanceof TresorError ? err.message : 'internal error' } })
      .catch(() => undefined);
    throw err;
  }
  try {
    await audit.append({ action, outcome: 'success', ...(target ? { target } : {}), details: { ...details, phase: 'finished', startedSeq: started.seq, ...resultDetails(result) } });
  } catch (err) {
    throw new IoError(`${action} completed, but its outcome could not be written to the audit log: ${(err as Error).message}`, { cause: err });
  }
  return result;
}
