import type { BackupRecord } from '@tresor/catalog';
import { PERIOD_RULES, compilePolicy } from './policy.js';
import type { CompiledPolicy, RetentionRules } from './policy.js';

/** Which backups of a source to keep: see `retentionPolicySchema`. */
export type RetentionPolicy = RetentionRules;
import { subtractDuration } from './duration.js';

/** What retention needs to know about a backup; a catalog BackupRecord plus its lock. */
export type RetentionCandidate = Pick<BackupRecord, 'id' | 'sourceId' | 'createdAt' | 'tags' | 'dataBackupIds'> & {
  /** The latest time until which storage refuses to delete one of the backup's objects (WORM), if any. */
  readonly lockedUntil?: Date;
};

export type RetentionAction = 'keep' | 'forget' | 'deferred';

/** The verdict on one backup and every reason for it. */
export interface RetentionDecision<B extends RetentionCandidate = RetentionCandidate> {
  readonly backup: B;
  readonly action: RetentionAction;
  /** For `keep`: each rule that keeps it and each kept backup that needs it; otherwise why it goes. */
  readonly reasons: readonly string[];
  /** For `deferred`: when its lock expires and it can be forgotten. */
  readonly deferredUntil?: Date;
}

/** A policy for every source, or one per source id (undefined: that source has none and is left alone). */
export type PolicyChoice = RetentionPolicy | ((sourceId: string) => RetentionPolicy | undefined);

const DAY_MS = 86_400_000;

interface Working<B> {
  readonly backup: B;
  readonly time: number;
  keep: string[];
  why: string[];
  action: RetentionAction;
}

/**
 * Decides for every backup whether it is kept, forgotten or deferred (docs/retention.md, ADR 16).
 * Pure: `now` is the only clock. Rules apply per source; a backup whose archive a remaining backup
 * reads is kept ("parent of <id>"); one the rules drop but storage still locks is deferred.
 * Returns the decisions oldest first.
 */
export function selectRetention<B extends RetentionCandidate>(
  backups: readonly B[],
  policy: PolicyChoice,
  now: Date,
): RetentionDecision<B>[] {
  const policyOf = typeof policy === 'function' ? policy : () => policy;
  const compiled = new Map<string, CompiledPolicy | undefined>();
  const byPolicy = new Map<RetentionPolicy, CompiledPolicy>();
  const bySource = new Map<string, Working<B>[]>();
  const byId = new Map<string, Working<B>>();
  for (const backup of backups) {
    const w: Working<B> = { backup, time: Date.parse(backup.createdAt), keep: [], why: [], action: 'forget' };
    byId.set(backup.id, w);
    let list = bySource.get(backup.sourceId);
    if (!list) bySource.set(backup.sourceId, (list = []));
    list.push(w);
    if (!compiled.has(backup.sourceId)) {
      const p = policyOf(backup.sourceId);
      // Sources usually share one policy object: check and prepare it once.
      let c = p && byPolicy.get(p);
      if (p && !c) byPolicy.set(p, (c = compilePolicy(p, `retention policy of source ${backup.sourceId}`)));
      compiled.set(backup.sourceId, c);
    }
  }
  for (const [sourceId, list] of bySource) {
    list.sort(newestFirst);
    const c = compiled.get(sourceId);
    if (c) applyRules(list, c, now);
    else for (const w of list) w.keep.push('no retention policy for this source');
  }

  const pending: Working<B>[] = [];
  for (const w of byId.values()) {
    if (w.keep.length > 0) w.action = 'keep';
    else if (w.backup.lockedUntil && w.backup.lockedUntil.getTime() > now.getTime()) w.action = 'deferred';
    if (w.action !== 'forget') pending.push(w);
  }
  // Every backup that stays (kept or deferred) must stay restorable: keep the archives it reads.
  for (let w = pending.pop(); w; w = pending.pop()) {
    for (const id of w.backup.dataBackupIds) {
      const needed = id === w.backup.id ? undefined : byId.get(id);
      if (!needed) continue;
      needed.keep.push(`parent of ${w.backup.id}`);
      if (needed.action !== 'keep') {
        const wasStaying = needed.action === 'deferred';
        needed.action = 'keep';
        if (!wasStaying) pending.push(needed);
      }
    }
  }

  return [...byId.values()].sort((a, b) => -newestFirst(a, b)).map((w) => decision(w));
}

function decision<B extends RetentionCandidate>(w: Working<B>): RetentionDecision<B> {
  if (w.action === 'keep') return { backup: w.backup, action: 'keep', reasons: w.keep };
  const why = w.why.length > 0 ? w.why : ['no rule keeps it'];
  if (w.action === 'deferred') {
    const until = w.backup.lockedUntil!;
    return { backup: w.backup, action: 'deferred', reasons: [...why, `deferred until ${until.toISOString()} (WORM lock)`], deferredUntil: until };
  }
  return { backup: w.backup, action: 'forget', reasons: why };
}

/** The rules of one source over its backups, newest first (restic's order: the newest backup of a bucket is the one kept). */
function applyRules<B extends RetentionCandidate>(list: Working<B>[], c: CompiledPolicy, now: Date): void {
  const p = c.policy;
  const periods = PERIOD_RULES.filter(({ rule }) => ((p[rule] as number | undefined) ?? 0) > 0).map((r) => ({
    ...r,
    left: p[r.rule] as number,
    last: undefined as string | undefined,
  }));
  const withinAfter = c.within && list.length > 0 ? subtractDuration(new Date(list[0]!.time), c.within).getTime() : undefined;
  const daysAfter = p.retentionDays !== undefined ? now.getTime() - p.retentionDays * DAY_MS : undefined;
  const tags = new Set(p.keepTags ?? []);
  const onlyCap = p.maxBackups !== undefined && !hasKeepRule(p);
  let last = p.keepLast ?? 0;
  for (const w of list) {
    if (last > 0) {
      w.keep.push(`keep-last ${p.keepLast}`);
      last--;
    }
    // Formatting a time in a zone is the costly step: once per backup, and not at all once every count is used up.
    const local = periods.some((r) => r.left > 0) ? c.buckets.local(new Date(w.time)) : undefined;
    for (const rule of periods) {
      if (rule.left === 0) continue;
      const name = c.buckets.name(rule.period, local!);
      if (name === rule.last) continue;
      rule.last = name;
      rule.left--;
      w.keep.push(`${rule.flag} ${name}`);
    }
    if (withinAfter !== undefined && w.time > withinAfter) w.keep.push(`keep-within ${p.keepWithin}`);
    for (const tag of w.backup.tags) if (tags.has(tag)) w.keep.push(`keep-tag ${tag}`);
    if (daysAfter !== undefined && w.time >= daysAfter) w.keep.push(`retention_days ${p.retentionDays}`);
    if (onlyCap) w.keep.push(`max_backups ${p.maxBackups}`);
  }
  if (p.maxBackups !== undefined) {
    let kept = 0;
    for (const w of list) {
      if (w.keep.length === 0) continue;
      if (++kept > p.maxBackups) {
        w.why.push(`beyond max_backups ${p.maxBackups} (kept by ${w.keep.join(', ')})`);
        w.keep = [];
      }
    }
  }
}

function hasKeepRule(p: RetentionPolicy): boolean {
  return !!p.keepLast || PERIOD_RULES.some(({ rule }) => !!p[rule]) || p.keepWithin !== undefined || (p.keepTags?.length ?? 0) > 0 || p.retentionDays !== undefined;
}

function newestFirst<B extends RetentionCandidate>(a: Working<B>, b: Working<B>): number {
  return b.time - a.time || (a.backup.id < b.backup.id ? 1 : a.backup.id > b.backup.id ? -1 : 0);
}

/** The retention policy operations, under the name the issue gives them. */
export const RetentionPolicy = {
  select: selectRetention,
  compile: compilePolicy,
} as const;
