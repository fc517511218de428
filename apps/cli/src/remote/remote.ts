import { resolve } from 'node:path';
import { TresorClient } from '@tresor/client';
import type { BackupLevel } from '@tresor/catalog';
import type { ApprovalRequestDto } from '@tresor/contracts';
import { IntegrityError, UsageError } from '@tresor/errors';
import type { BackupResult, RestoreResult, VerifyReport } from '@tresor/repository';
import type { GlobalOptions } from '../context.js';
import { printJson } from '../format.js';
import { cachedSession, forgetSession, saveSession } from './credentials.js';

/**
 * Remote mode: with --server URL (or TRESOR_SERVER) the commands run through the gateway API.
 * Paths (backup sources, restore targets) are paths on the cluster's service hosts.
 */
export function remoteClient(options: GlobalOptions & { server?: string }): TresorClient | undefined {
  const url = options.server ?? process.env.TRESOR_SERVER;
  if (!url) return undefined;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--server '${url}' is not an http(s) URL`);
  // TRESOR_TOKEN (an API token, for automation) wins over the session `tresor login` cached.
  if (process.env.TRESOR_TOKEN) return new TresorClient({ url, token: process.env.TRESOR_TOKEN });
  const session = cachedSession(url);
  if (!session) return new TresorClient({ url });
  return new TresorClient({
    url,
    token: session.accessToken,
    // An expired access token is renewed once with the cached refresh token (which then rotates).
    onUnauthenticated: async () => {
      try {
        const fresh = await new TresorClient({ url }).auth.refresh(session.refreshToken);
        saveSession(url, { ...session, accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, expiresAt: new Date(Date.now() + fresh.expiresIn * 1000).toISOString() });
        return fresh.accessToken;
      } catch {
        forgetSession(url);
        return undefined;
      }
    },
  });
}

export async function remoteBackup(
  client: TresorClient,
  path: string,
  options: { level: BackupLevel; tag: string[]; skipUnreadable?: boolean; compression?: { codec: string; level: number } },
): Promise<BackupResult> {
  const job = await client.backups.create({
    source: { kind: 'filesystem', location: resolve(path) },
    level: options.level,
    tags: options.tag,
    ...(options.skipUnreadable ? { skipUnreadable: true } : {}),
    ...(options.compression ? { compression: options.compression } : {}),
  });
  const done = await client.jobs.wait(job.id);
  return done.result as unknown as BackupResult;
}

export async function remoteRestore(
  client: TresorClient,
  id: string,
  options: { target: string; at?: Date; source?: string; include: string[]; exclude: string[]; dryRun?: boolean; overwrite?: boolean },
): Promise<RestoreResult | { approval: ApprovalRequestDto }> {
  const answer = await client.restores.request({
    backup: id,
    ...(options.at ? { at: options.at.toISOString() } : {}),
    ...(options.source ? { source: options.source } : {}),
    target: resolve(options.target),
    include: options.include,
    exclude: options.exclude,
    dryRun: options.dryRun ?? false,
    overwrite: options.overwrite ?? false,
  });
  // A sensitive source: nothing runs until custodians approve (tresor approvals).
  if ('approval' in answer) return answer;
  const done = await client.jobs.wait(answer.job.id);
  return done.result as unknown as RestoreResult;
}

/** Verifies through recovery; prints like the standalone command and fails the same way. */
export async function remoteVerify(client: TresorClient, id: string | undefined, options: { all?: boolean; deep?: boolean; json?: boolean }): Promise<void> {
  const ids = options.all ? (await client.backups.list()).map((b) => b.id) : [id!];
  const reports: VerifyReport[] = [];
  for (const backupId of ids) {
    const job = await client.backups.verify(backupId, { deep: options.deep ?? false });
    const report = (await client.jobs.wait(job.id)).result as unknown as VerifyReport;
    reports.push(report);
    if (!options.json) {
      process.stdout.write(report.ok ? `ok      ${report.backupId}${report.deep ? ` (${report.entriesChecked} entries)` : ''}\n` : `FAILED  ${report.problem}\n`);
    }
  }
  const failed = reports.filter((r) => !r.ok);
  if (options.json) printJson({ ok: failed.length === 0, reports });
  else process.stdout.write(`${reports.length - failed.length} of ${reports.length} backups verified${options.deep ? ' (deep)' : ''}\n`);
  if (failed.length > 0) throw new IntegrityError(`${failed.length} of ${reports.length} backups failed verification; first: ${failed[0]!.problem}`);
}
