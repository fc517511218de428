import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import type { AlertManager, AlertLevel } from '@tresor/alerting';
import type { Catalog } from '@tresor/catalog';
import type { ObjectStore, StorageLocation } from '@tresor/storage';
import { openLocation } from '@tresor/storage';
import { cryptoperiodStatus } from '@tresor/repository';
import type { KekAge } from '@tresor/repository';
import type { MonitorConfig } from './config.js';
import { rpoSeconds } from './config.js';
import type { DrillRecord } from './results.js';

export type CheckStatus = 'ok' | 'warning' | 'critical';

/** The outcome of one check on one target (a location, a source, a KEK version, an endpoint). */
export interface CheckResult {
  /** The check, also the alert rule: `storage`, `freshness`, `verify`, `key-provider`, `kek-cryptoperiod`, `certificate`. */
  readonly check: string;
  readonly target: string;
  readonly status: CheckStatus;
  readonly summary: string;
  readonly details: Record<string, string | number | boolean>;
}

const DAY_S = 86_400;
const PROBE_PREFIX = 'monitor/probe-';

/** Exit status of a check run: 2 when anything is critical, 1 on warnings only, else 0 (`monitor check`). */
export function worstStatus(results: readonly CheckResult[]): CheckStatus {
  if (results.some((r) => r.status === 'critical')) return 'critical';
  return results.some((r) => r.status === 'warning') ? 'warning' : 'ok';
}

/**
 * Storage: each location is opened and a small probe object written, read back and deleted (reachable,
 * writable, latency); a local location also reports the used share of its filesystem against the
 * warning/critical thresholds. Object stores have no free-space figure; that part is skipped there.
 */
export async function checkStorage(locations: readonly StorageLocation[], config: MonitorConfig, now: () => number = Date.now): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const location of locations) {
    const path = (location.settings as { path?: unknown }).path;
    results.push(
      await probeStorage(location.name, () => openLocation(location), config, {
        now,
        details: { type: location.type },
        ...(location.type === 'local' && typeof path === 'string' ? { usage: () => filesystemUsage(path) } : {}),
      }),
    );
  }
  return results;
}

/** How full the store behind a storage target is, where that can be seen (a local filesystem). */
export interface StorageUsage {
  readonly usedPercent: number;
  readonly freeBytes: number;
}

export interface StorageProbeOptions {
  readonly now?: () => number;
  /** The probe (open, write, read, delete) fails when it takes longer (default: no limit). */
  readonly timeoutMs?: number;
  /** Facts about the target reported with the result (its type, ...). */
  readonly details?: Record<string, string | number | boolean>;
  /** The used share of the target's space, judged against `storage.warningPercent` / `criticalPercent`. */
  readonly usage?: () => Promise<StorageUsage>;
}

/**
 * The `storage` check of one target: `open` it, write a 64-byte probe object (`monitor/probe-*`), read
 * it back and delete it. CRITICAL when any step fails or exceeds `timeoutMs`; WARNING when slower than
 * `storage.latencyWarningMs`; with `usage`, also judged by how full the target is.
 */
export async function probeStorage(target: string, open: () => Promise<ObjectStore>, config: MonitorConfig, options: StorageProbeOptions = {}): Promise<CheckResult> {
  const now = options.now ?? Date.now;
  const details: Record<string, string | number | boolean> = { ...options.details };
  let store: ObjectStore | undefined;
  try {
    const t0 = now();
    await withTimeout(
      (async () => {
        store = await open();
        await writeReadDelete(store);
      })(),
      options.timeoutMs,
    );
    const latencyMs = now() - t0;
    details.latencyMs = latencyMs;
    let status: CheckStatus = latencyMs > config.storage.latencyWarningMs ? 'warning' : 'ok';
    let summary = `storage location ${target} is reachable and writable (${latencyMs} ms)`;
    if (options.usage) {
      const { usedPercent, freeBytes } = await options.usage();
      details.usedPercent = usedPercent;
      details.freeBytes = freeBytes;
      if (usedPercent >= config.storage.criticalPercent) status = 'critical';
      else if (usedPercent >= config.storage.warningPercent && status === 'ok') status = 'warning';
      summary += `, ${usedPercent} % used`;
      if (status !== 'ok') summary = `storage location ${target}: ${usedPercent} % used (warning at ${config.storage.warningPercent} %, critical at ${config.storage.criticalPercent} %), ${latencyMs} ms`;
    }
    return { check: 'storage', target, status, summary, details };
  } catch (err) {
    return { check: 'storage', target, status: 'critical', summary: `storage location ${target} is not reachable or not writable: ${(err as Error).message}`, details };
  } finally {
    await (store as ObjectStore | undefined)?.close?.().catch(() => undefined);
  }
}

async function writeReadDelete(store: ObjectStore): Promise<void> {
  const key = `${PROBE_PREFIX}${randomBytes(6).toString('hex')}`;
  const body = randomBytes(64);
  await store.put(key, body);
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  await store.delete(key);
  if (!Buffer.concat(chunks).equals(body)) throw new Error('probe object read back differs from what was written');
}

async function filesystemUsage(path: string): Promise<StorageUsage> {
  const fs = await statfs(path);
  return { usedPercent: Math.round((1 - fs.bavail / fs.blocks) * 1000) / 10, freeBytes: fs.bavail * fs.bsize };
}

/** `work`, or a rejection once `timeoutMs` has passed (a hanging store; the work itself is not cancelled). */
async function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the probe did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Backup freshness: each source's last backup against its RPO (default 26 h; CRITICAL past twice that). */
export async function checkFreshness(catalog: Catalog, config: MonitorConfig, now: number = Date.now()): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const source of await catalog.listSources()) {
    const backups = await catalog.listBackups({ sourceId: source.id });
    const last = backups.reduce<string | undefined>((m, b) => (m === undefined || b.completedAt > m ? b.completedAt : m), undefined);
    const rpo = rpoSeconds(config, source.location);
    if (!last) {
      // Counted from when the source was first seen: a source whose first backup just failed is not stale yet (that failure alerts on its own).
      const sinceS = Math.max(0, Math.round((now - Date.parse(source.createdAt)) / 1000));
      const status: CheckStatus = sinceS > 2 * rpo ? 'critical' : sinceS > rpo ? 'warning' : 'ok';
      results.push({ check: 'freshness', target: source.location, status, summary: `source ${source.location} has no successful backup (first seen ${(sinceS / 3600).toFixed(1)} h ago, RPO ${rpo / 3600} h)`, details: { firstSeenAt: source.createdAt, ageSeconds: sinceS, rpoSeconds: rpo } });
      continue;
    }
    const ageS = Math.max(0, Math.round((now - Date.parse(last)) / 1000));
    const status: CheckStatus = ageS > 2 * rpo ? 'critical' : ageS > rpo ? 'warning' : 'ok';
    const hours = (ageS / 3600).toFixed(1);
    results.push({
      check: 'freshness',
      target: source.location,
      status,
      summary: status === 'ok' ? `source ${source.location}: last backup ${hours} h ago` : `source ${source.location}: no successful backup for ${hours} h (RPO ${rpo / 3600} h)`,
      details: { lastBackupAt: last, ageSeconds: ageS, rpoSeconds: rpo },
    });
  }
  return results;
}

/** The last verification of each source: its newest restore drill (a full restore with every entry hash checked). */
export function checkLastVerify(drills: readonly DrillRecord[]): CheckResult[] {
  const latest = new Map<string, DrillRecord>();
  for (const d of drills) if ((latest.get(d.source)?.finishedAt ?? '') < d.finishedAt) latest.set(d.source, d);
  return [...latest.values()].map((d) => ({
    check: 'verify',
    target: d.source,
    status: d.ok ? 'ok' : 'critical',
    summary: d.ok ? `source ${d.source}: last drill of ${d.backupId} verified ${d.entriesVerified} entries` : `source ${d.source}: last drill of ${d.backupId} failed: ${d.problem ?? 'unknown problem'}`,
    details: { drillId: d.id, backupId: d.backupId, finishedAt: d.finishedAt },
  }));
}

/** Key provider availability: the canary wrap/unwrap of every slot (`tresor keys check`). */
export function checkKeyProviders(results: readonly { version: number; kekId: string; ok: boolean; problem?: string }[]): CheckResult[] {
  return results.map((r) => ({
    check: 'key-provider',
    target: `v${r.version}/${r.kekId}`,
    status: r.ok ? 'ok' : 'critical',
    summary: r.ok ? `key slot ${r.kekId} of KEK v${r.version} wraps and unwraps` : `key slot ${r.kekId} of KEK v${r.version} failed its canary: ${r.problem ?? 'unknown'}`,
    details: { version: r.version },
  }));
}

/** KEK age against its cryptoperiod (`cryptoperiodStatus`): WARNING within `warnDays` of its end, CRITICAL past it; inactive versions are skipped. */
export function checkCryptoperiods(versions: readonly KekAge[], warnDays: number, now: number = Date.now()): CheckResult[] {
  return versions
    .map((v) => cryptoperiodStatus(v, new Date(now), warnDays))
    .filter((c) => c.status !== 'inactive')
    .map((c) => {
      const status: CheckStatus = c.status === 'overdue' ? 'critical' : c.status === 'due' ? 'warning' : 'ok';
      const days = c.cryptoperiodDays;
      return {
        check: 'kek-cryptoperiod',
        target: `v${c.version}`,
        status,
        summary: status === 'critical' ? `KEK v${c.version} is past its cryptoperiod of ${days} days (rotate by ${c.rotateBy})` : `KEK v${c.version}: ${c.daysLeft} day(s) left of its cryptoperiod of ${days} days`,
        details: { createdAt: c.createdAt, cryptoperiodDays: days, rotateBy: c.rotateBy, daysLeft: c.daysLeft },
      };
    });
}

/** Certificate expiry of the configured TLS endpoints (the chain is not judged here: expiry only). */
export async function checkCertificates(config: MonitorConfig, now: number = Date.now()): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const ep of config.tls.endpoints) {
    const target = `${ep.host}:${ep.port}`;
    try {
      const validTo = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({ host: ep.host, port: ep.port, servername: ep.servername ?? ep.host, rejectUnauthorized: false, timeout: 10_000 }, () => {
          const cert = socket.getPeerCertificate();
          socket.end();
          if (!cert?.valid_to) reject(new Error('no certificate presented'));
          else resolve(cert.valid_to);
        });
        socket.once('error', reject);
        socket.once('timeout', () => socket.destroy(new Error('timed out')));
      });
      const daysLeft = Math.floor((Date.parse(validTo) - now) / 1000 / DAY_S);
      const status: CheckStatus = daysLeft < config.tls.criticalDays ? 'critical' : daysLeft < config.tls.warningDays ? 'warning' : 'ok';
      results.push({ check: 'certificate', target, status, summary: daysLeft < 0 ? `certificate of ${target} expired ${-daysLeft} day(s) ago` : `certificate of ${target} expires in ${daysLeft} day(s)`, details: { validTo: new Date(Date.parse(validTo)).toISOString(), daysLeft } });
    } catch (err) {
      results.push({ check: 'certificate', target, status: 'critical', summary: `cannot read the certificate of ${target}: ${(err as Error).message}`, details: {} });
    }
  }
  return results;
}

/** Raises an alert for each failed check (WARNING or CRITICAL) and resolves it when the check passes. */
export async function alertOnChecks(manager: AlertManager, results: readonly CheckResult[]): Promise<void> {
  for (const r of results) {
    const identity = { rule: `check-${r.check}`, ...(r.check === 'freshness' || r.check === 'verify' ? { source: r.target } : { key: r.target }) };
    if (r.status === 'ok') await manager.resolve(identity);
    else await manager.raise({ ...identity, level: (r.status === 'critical' ? 'CRITICAL' : 'WARNING') as AlertLevel, summary: r.summary, details: r.details });
  }
}
