import { randomUUID } from 'node:crypto';
import type { Alert, AlertIdentity, AlertLevel, AlertSignal } from './alert.js';
import { alertSignalSchema, fingerprintOf, levelRank } from './alert.js';
import type { AlertChannel, Notification, NotificationItem, NotificationKind } from './channels/channel.js';
import type { AlertHistory } from './history/history.js';

/** Milliseconds since the epoch; injected so that tests drive time instead of waiting for it. */
export type Clock = () => number;

/** What the manager logs; pino's logger fits. Values logged never include secrets. */
export interface AlertLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export type GroupByField = 'rule' | 'level' | 'source' | 'tenant';

/** Which channels get alerts of which levels. */
export interface AlertRoute {
  readonly levels: readonly AlertLevel[];
  readonly channels: readonly string[];
}

export interface AlertManagerOptions {
  /**
   * Batching and flap window: a group's first change waits this long for others to join it, and a
   * resolve must hold this long before it is notified (a raise within it takes the resolve back).
   */
  readonly groupWindowMs: number;
  /** A notified alert still firing is notified again after this long. */
  readonly renotifyIntervalMs: number;
  /** Alerts with equal values of these fields are notified together (default: rule). */
  readonly groupBy?: readonly GroupByField[];
  readonly routes: readonly AlertRoute[];
  readonly channels: readonly AlertChannel[];
  readonly history?: AlertHistory;
  /** Called with every notification, whatever the routes say (monitoring publishes events from it). */
  readonly listeners?: readonly ((n: Notification) => Promise<void>)[];
  readonly clock?: Clock;
  readonly newId?: () => string;
  readonly logger?: AlertLogger;
}

/** A condition the manager follows: its current occurrence and what was last told about it. */
interface Tracked {
  alert: Alert;
  group: string;
  notified: 'none' | 'firing' | 'resolved';
  notifiedLevel?: AlertLevel;
  lastNotifiedMs?: number;
  resolvedMs?: number;
}

interface PendingGroup {
  dueMs: number;
  items: Set<Tracked>;
}

/** What one `tick` delivered, per channel: `ok` or the error message. */
export interface Delivery {
  readonly notification: Notification;
  readonly results: Record<string, 'ok' | string>;
}

/**
 * Turns raise/resolve reports of checks into notifications: de-duplicated by fingerprint, batched
 * per group, re-notified while firing, and resolved once. Exact semantics (docs/alerts.md):
 *
 * - `raise` of a condition that is not firing opens an occurrence; its `raised` notice goes out with
 *   its group when the group is due (the group window after the group's first pending change).
 * - `raise` of a firing condition only refreshes it; a higher level than last notified sends
 *   `escalated`; nothing else is sent before the re-notify interval, which sends `reminder`.
 * - `resolve` is held for the group window. A `raise` within it takes the resolve back (the
 *   occurrence continues, `flaps` counts it) and nothing is sent; otherwise `resolved` is sent once.
 *   So raise/resolve/raise within the window notifies once, and once more on the final resolve.
 * - An occurrence resolved before its `raised` notice went out is recorded but never notified.
 *
 * Nothing is sent from `raise`/`resolve`; `tick()` sends what is due (`start()` runs it on a timer).
 */
export class AlertManager {
  private readonly current = new Map<string, Tracked>();
  private readonly groups = new Map<string, PendingGroup>();
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly groupBy: readonly GroupByField[];
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private readonly options: AlertManagerOptions) {
    this.clock = options.clock ?? Date.now;
    this.newId = options.newId ?? randomUUID;
    this.groupBy = options.groupBy?.length ? options.groupBy : ['rule'];
  }

  /**
   * Reloads from the history what a previous run left open, so a restarted manager neither repeats
   * nor forgets: firing alerts (announced ones are not announced again) and resolves it had not
   * announced yet (within `resumeResolvedMs`, default 7 days).
   */
  async resume(resumeResolvedMs = 7 * 24 * 3600_000): Promise<number> {
    return this.serial(async () => {
      const now = this.clock();
      const firing = (await this.options.history?.query({ state: 'firing' })) ?? [];
      const resolved = ((await this.options.history?.query({ state: 'resolved', since: new Date(now - resumeResolvedMs) })) ?? []).filter(
        (a) => a.notifiedAt !== undefined && Date.parse(a.notifiedAt) < Date.parse(a.resolvedAt!),
      );
      let resumed = 0;
      for (const alert of [...firing, ...resolved]) {
        if (this.current.has(alert.fingerprint)) continue;
        const notified = alert.notifiedAt !== undefined;
        const t: Tracked = {
          alert,
          group: this.groupOf(alert),
          notified: notified ? 'firing' : 'none',
          ...(notified ? { notifiedLevel: alert.level, lastNotifiedMs: Date.parse(alert.notifiedAt!) } : {}),
          ...(alert.resolvedAt ? { resolvedMs: Date.parse(alert.resolvedAt) } : {}),
        };
        this.current.set(alert.fingerprint, t);
        if (!notified || alert.state === 'resolved') this.enqueue(t, now);
        resumed++;
      }
      return resumed;
    });
  }

  /** A check reports its condition; returns the occurrence it belongs to. */
  async raise(signal: AlertSignal): Promise<Alert> {
    const s = alertSignalSchema.parse(signal);
    return this.serial(async () => {
      const now = this.clock();
      const fingerprint = fingerprintOf(s);
      let t = this.current.get(fingerprint);
      // A resolve that held for the whole window stands: the condition starts a new occurrence.
      if (t && t.alert.state === 'resolved' && now - t.resolvedMs! >= this.options.groupWindowMs) t = undefined;
      const at = new Date(now).toISOString();
      if (!t) {
        const alert: Alert = {
          id: this.newId(),
          fingerprint,
          rule: s.rule,
          level: s.level,
          ...(s.source !== undefined ? { source: s.source } : {}),
          ...(s.tenant !== undefined ? { tenant: s.tenant } : {}),
          ...(s.key !== undefined ? { key: s.key } : {}),
          summary: s.summary,
          details: s.details,
          state: 'firing',
          raisedAt: at,
          lastSeenAt: at,
          notifications: 0,
          flaps: 0,
        };
        t = { alert, group: this.groupOf(alert), notified: 'none' };
        this.current.set(fingerprint, t);
      } else {
        if (t.alert.state === 'resolved') {
          t.alert.state = 'firing';
          delete t.alert.resolvedAt;
          delete t.resolvedMs;
          t.alert.flaps += 1;
        }
        Object.assign(t.alert, { level: s.level, summary: s.summary, details: s.details, lastSeenAt: at });
      }
      this.enqueue(t, now);
      await this.record(t.alert);
      return structuredClone(t.alert);
    });
  }

  /** A check reports its condition is over; returns the occurrence, or undefined if none was firing. */
  async resolve(identity: AlertIdentity): Promise<Alert | undefined> {
    return this.serial(async () => {
      const t = this.current.get(fingerprintOf(identity));
      if (!t || t.alert.state !== 'firing') return undefined;
      const now = this.clock();
      t.alert.state = 'resolved';
      t.alert.resolvedAt = new Date(now).toISOString();
      t.resolvedMs = now;
      this.enqueue(t, now);
      await this.record(t.alert);
      return structuredClone(t.alert);
    });
  }

  /** The alerts firing now. */
  firing(): Alert[] {
    return [...this.current.values()].filter((t) => t.alert.state === 'firing').map((t) => structuredClone(t.alert));
  }

  /**
   * Sends every notification that is due now; returns what was sent and how each channel fared.
   * What is due is decided under the state lock; delivery (with a channel's retries) runs after
   * it, so a slow receiver never holds up raise and resolve.
   */
  async tick(): Promise<Delivery[]> {
    const due = await this.serial(async () => {
      const now = this.clock();
      this.scheduleReminders(now);
      const notifications: Notification[] = [];
      for (const [key, group] of [...this.groups]) {
        if (group.dueMs > now) continue;
        this.groups.delete(key);
        const items: NotificationItem[] = [];
        for (const t of group.items) {
          const kind = this.decide(t, now);
          if (kind === 'wait') this.enqueueAt(t, t.resolvedMs! + this.options.groupWindowMs);
          else if (kind) items.push(await this.markNotified(t, kind, now));
        }
        if (items.length > 0) notifications.push({ id: this.newId(), group: key, createdAt: new Date(now).toISOString(), items });
      }
      this.forgetSettled(now);
      return notifications;
    });
    const deliveries: Delivery[] = [];
    for (const notification of due) deliveries.push({ notification, results: await this.deliver(notification) });
    return deliveries;
  }

  /**
   * Runs `tick` every `intervalMs` until `stop`; a tick still delivering makes the next ones wait, keeping order.
   * `active`: ticks are skipped while it returns false (a replica that is no longer sure it leads must not deliver).
   */
  start(intervalMs = 1000, active: () => boolean = () => true): void {
    this.timer ??= setInterval(() => {
      if (this.ticking || !active()) return;
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.options.logger?.warn({ err: (err as Error).message }, 'alert tick failed'))
        .finally(() => (this.ticking = undefined));
    }, intervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer, lets a running tick finish, and closes the channels; pending notifications are not sent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.queue.catch(() => undefined);
    await Promise.allSettled(this.options.channels.map((c) => c.close?.()));
  }

  private decide(t: Tracked, now: number): NotificationKind | 'wait' | undefined {
    const a = t.alert;
    if (a.state === 'firing') {
      if (t.notified !== 'firing') return 'raised';
      if (levelRank(a.level) > levelRank(t.notifiedLevel!)) return 'escalated';
      if (now - t.lastNotifiedMs! >= this.options.renotifyIntervalMs) return 'reminder';
      return undefined; // Flap absorbed, or a repeat of what was already said.
    }
    if (t.notified !== 'firing') return undefined; // Never announced: a transient is not worth a resolve.
    return now - t.resolvedMs! >= this.options.groupWindowMs ? 'resolved' : 'wait';
  }

  private async markNotified(t: Tracked, kind: NotificationKind, now: number): Promise<NotificationItem> {
    t.notified = kind === 'resolved' ? 'resolved' : 'firing';
    t.notifiedLevel = t.alert.level;
    t.lastNotifiedMs = now;
    t.alert.notifiedAt = new Date(now).toISOString();
    t.alert.notifications += 1;
    await this.record(t.alert);
    return { kind, alert: structuredClone(t.alert) };
  }

  private scheduleReminders(now: number): void {
    for (const t of this.current.values()) {
      if (t.alert.state === 'firing' && t.notified === 'firing' && now - t.lastNotifiedMs! >= this.options.renotifyIntervalMs) {
        this.enqueueAt(t, now);
      }
    }
  }

  /** Drops conditions whose resolve was settled a window ago and that wait for nothing. */
  private forgetSettled(now: number): void {
    const pending = new Set([...this.groups.values()].flatMap((g) => [...g.items]));
    for (const [fp, t] of this.current) {
      if (t.alert.state === 'resolved' && now - t.resolvedMs! >= this.options.groupWindowMs && !pending.has(t)) this.current.delete(fp);
    }
  }

  private async deliver(n: Notification): Promise<Record<string, 'ok' | string>> {
    const results: Record<string, 'ok' | string> = {};
    const sends: Promise<void>[] = [];
    for (const channel of this.options.channels) {
      const items = n.items.filter((i) => this.routed(channel.name, i.alert.level));
      if (items.length === 0) continue;
      sends.push(
        channel.send({ ...n, items }).then(
          () => void (results[channel.name] = 'ok'),
          (err: unknown) => {
            // Channel errors name the channel and receiver, never a secret (see each channel).
            const message = err instanceof Error ? err.message : String(err);
            results[channel.name] = message;
            this.options.logger?.warn({ channel: channel.name, notification: n.id, err: message }, 'alert notification not delivered');
          },
        ),
      );
    }
    for (const listener of this.options.listeners ?? []) {
      sends.push(listener(n).catch((err: unknown) => this.options.logger?.warn({ notification: n.id, err: (err as Error).message }, 'alert listener failed')));
    }
    await Promise.all(sends);
    return results;
  }

  private routed(channel: string, level: AlertLevel): boolean {
    return this.options.routes.some((r) => r.levels.includes(level) && r.channels.includes(channel));
  }

  private groupOf(a: Alert): string {
    return this.groupBy.map((f) => `${f}=${a[f] ?? '-'}`).join(',');
  }

  private enqueue(t: Tracked, now: number): void {
    const group = this.groups.get(t.group);
    if (group) group.items.add(t);
    else this.groups.set(t.group, { dueMs: now + this.options.groupWindowMs, items: new Set([t]) });
  }

  private enqueueAt(t: Tracked, dueMs: number): void {
    const group = this.groups.get(t.group);
    if (group) {
      group.items.add(t);
      group.dueMs = Math.min(group.dueMs, dueMs);
    } else this.groups.set(t.group, { dueMs, items: new Set([t]) });
  }

  private async record(alert: Alert): Promise<void> {
    try {
      await this.options.history?.record(structuredClone(alert));
    } catch (err) {
      // Losing a history row must not stop notifications; the next change writes the row again.
      this.options.logger?.warn({ alert: alert.id, err: (err as Error).message }, 'alert history not written');
    }
  }

  /** Runs state changes one after another, so a tick never sees half an update. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
