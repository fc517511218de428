import { expect, it } from 'vitest';
import type { Alert } from '../alert.js';
import { fingerprintOf } from '../alert.js';
import type { AlertHistory } from './history.js';

/** A history as `record` left it after the manager's writes of three occurrences. */
export function historyAlerts(): Alert[] {
  const alert = (id: string, rule: string, level: Alert['level'], raisedAt: string, resolvedAt?: string, source?: string): Alert => ({
    id,
    fingerprint: fingerprintOf({ rule, source }),
    rule,
    level,
    ...(source ? { source } : {}),
    summary: `${rule} on ${source ?? 'the cluster'}`,
    details: { n: 1, ok: false },
    state: resolvedAt ? 'resolved' : 'firing',
    raisedAt,
    ...(resolvedAt ? { resolvedAt } : {}),
    lastSeenAt: raisedAt,
    notifications: 1,
    flaps: 0,
  });
  return [
    alert('a1', 'backup-failed', 'CRITICAL', '2026-11-20T10:00:00.000Z', '2026-11-20T12:00:00.000Z', '/etc/keys'),
    alert('a2', 'verify-failed', 'WARNING', '2026-11-22T10:00:00.000Z', undefined, '/srv/pki'),
    alert('a3', 'disk-space', 'INFO', '2026-11-25T10:00:00.000Z', '2026-11-25T10:30:00.000Z'),
  ];
}

/** The cases every AlertHistory adapter passes; `open` gives a fresh, empty history. */
export function alertHistoryConformance(open: () => Promise<AlertHistory>): void {
  const ids = (alerts: Alert[]) => alerts.map((a) => a.id);

  it('returns what was recorded, newest raised first, and replaces an occurrence on update', async () => {
    const h = await open();
    const [a1, a2, a3] = historyAlerts();
    for (const a of [a1!, a2!, a3!]) await h.record(a);
    expect(await h.query()).toEqual([a3, a2, a1]);
    await h.record({ ...a2!, state: 'resolved', resolvedAt: '2026-11-23T00:00:00.000Z', notifications: 2 });
    const again = await h.query();
    expect(again).toHaveLength(3);
    expect(again[1]).toMatchObject({ id: 'a2', state: 'resolved', notifications: 2, resolvedAt: '2026-11-23T00:00:00.000Z' });
  });

  it('filters by level, state, rule, source and time, and limits', async () => {
    const h = await open();
    for (const a of historyAlerts()) await h.record(a);
    expect(ids(await h.query({ levels: ['CRITICAL', 'WARNING'] }))).toEqual(['a2', 'a1']);
    expect(ids(await h.query({ levels: [] }))).toEqual([]);
    expect(ids(await h.query({ state: 'firing' }))).toEqual(['a2']);
    expect(ids(await h.query({ state: 'resolved' }))).toEqual(['a3', 'a1']);
    expect(ids(await h.query({ rule: 'backup-failed' }))).toEqual(['a1']);
    expect(ids(await h.query({ source: '/srv/pki' }))).toEqual(['a2']);
    // Since: firing at some time since then (a1 resolved before, a2 still firing, a3 raised after).
    expect(ids(await h.query({ since: new Date('2026-11-21T00:00:00Z') }))).toEqual(['a3', 'a2']);
    expect(ids(await h.query({ since: new Date('2026-11-20T11:00:00Z') }))).toEqual(['a3', 'a2', 'a1']);
    expect(ids(await h.query({ until: new Date('2026-11-22T10:00:00Z') }))).toEqual(['a1']);
    expect(ids(await h.query({ limit: 2 }))).toEqual(['a3', 'a2']);
  });
}
