import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import type { AlertChannel, Notification } from './channels/channel.js';
import { checkAlertingSecrets, parseAlertingConfig } from './config.js';
import { MemoryAlertHistory } from './history/history.js';
import type { AlertManagerOptions } from './manager.js';
import { AlertManager } from './manager.js';

const S = 1000;
const window = 60 * S;
const renotify = 3600 * S;

/** A channel that keeps what it is given: the port's simplest real implementation. */
class RecordingChannel implements AlertChannel {
  readonly type = 'recording';
  readonly received: Notification[] = [];
  constructor(readonly name: string) {}
  async send(n: Notification): Promise<void> {
    this.received.push(n);
  }
  /** `kind level rule source` per item, per notification. */
  get summary(): string[][] {
    return this.received.map((n) => n.items.map((i) => `${i.kind} ${i.alert.level} ${i.alert.rule} ${i.alert.source ?? '-'}`));
  }
}

function setup(options: Partial<AlertManagerOptions> = {}) {
  let now = Date.parse('2026-11-26T00:00:00Z');
  const ops = new RecordingChannel('ops');
  const pager = new RecordingChannel('pager');
  const history = new MemoryAlertHistory();
  let ids = 0;
  const manager = new AlertManager({
    groupWindowMs: window,
    renotifyIntervalMs: renotify,
    routes: [
      { levels: ['INFO', 'WARNING', 'CRITICAL'], channels: ['ops'] },
      { levels: ['CRITICAL'], channels: ['pager'] },
    ],
    channels: [ops, pager],
    history,
    clock: () => now,
    newId: () => `id-${++ids}`,
    ...options,
  });
  /** Moves the clock to `t` ms after the start and ticks. */
  const at = async (t: number) => {
    now = Date.parse('2026-11-26T00:00:00Z') + t;
    return manager.tick();
  };
  const move = (t: number) => void (now = Date.parse('2026-11-26T00:00:00Z') + t);
  return { manager, ops, pager, history, at, move };
}

const failed = (source = '/etc/keys') => ({ rule: 'backup-failed', level: 'CRITICAL' as const, source, summary: `backup of ${source} failed` });

describe('AlertManager', () => {
  it('notifies a flapping check once, then once on the final resolve', async () => {
    const { manager, ops, at, move } = setup();
    move(0);
    await manager.raise(failed());
    move(10 * S);
    await manager.resolve(failed());
    move(20 * S);
    await manager.raise(failed());
    expect(await at(59 * S)).toEqual([]);
    await at(60 * S);
    expect(ops.summary).toEqual([['raised CRITICAL backup-failed /etc/keys']]);

    // More flaps after the first notice: each resolve is taken back within the window.
    move(100 * S);
    await manager.resolve(failed());
    move(130 * S);
    await manager.raise(failed());
    move(140 * S);
    await manager.resolve(failed());
    await at(199 * S);
    expect(ops.received).toHaveLength(1);
    await at(200 * S);
    expect(ops.summary).toEqual([['raised CRITICAL backup-failed /etc/keys'], ['resolved CRITICAL backup-failed /etc/keys']]);
    const resolved = ops.received[1]!.items[0]!.alert;
    expect(resolved).toMatchObject({ state: 'resolved', flaps: 2, notifications: 2, id: ops.received[0]!.items[0]!.alert.id });
    expect(resolved.resolvedAt).toBe('2026-11-26T00:02:20.000Z');
    await at(10_000 * S);
    expect(ops.received).toHaveLength(2);
  });

  it('de-duplicates repeated raises of one condition', async () => {
    const { manager, ops, at, move } = setup();
    for (let i = 0; i < 5; i++) {
      move(i * S);
      await manager.raise(failed());
    }
    await at(window + 10 * S);
    await at(window + 20 * S);
    expect(ops.summary).toEqual([['raised CRITICAL backup-failed /etc/keys']]);
    expect(manager.firing()).toHaveLength(1);
  });

  it('groups the changes of one rule into one notification, other rules apart', async () => {
    const { manager, ops, at, move } = setup();
    move(0);
    await manager.raise(failed('/a'));
    move(30 * S);
    await manager.raise(failed('/b'));
    await manager.raise({ rule: 'verify-failed', level: 'WARNING', key: 'b1', summary: 'verify of b1 failed' });
    await at(60 * S);
    expect(ops.summary).toEqual([['raised CRITICAL backup-failed /a', 'raised CRITICAL backup-failed /b']]);
    await at(90 * S);
    expect(ops.summary[1]).toEqual(['raised WARNING verify-failed -']);
  });

  it('groups by the configured fields', async () => {
    const { manager, ops, at } = setup({ groupBy: ['source'] });
    await manager.raise(failed('/a'));
    await manager.raise({ rule: 'verify-failed', level: 'CRITICAL', source: '/a', summary: 'verify failed' });
    await manager.raise(failed('/b'));
    await at(window);
    expect(ops.received.map((n) => n.group).sort()).toEqual(['source=/a', 'source=/b']);
    expect(ops.received.find((n) => n.group === 'source=/a')!.items).toHaveLength(2);
  });

  it('routes levels to channels', async () => {
    const { manager, ops, pager, at } = setup();
    await manager.raise(failed('/a'));
    await manager.raise({ rule: 'backup-failed', level: 'WARNING', source: '/b', summary: 'slow' });
    await at(window);
    expect(ops.summary).toEqual([['raised CRITICAL backup-failed /a', 'raised WARNING backup-failed /b']]);
    expect(pager.summary).toEqual([['raised CRITICAL backup-failed /a']]);
  });

  it('re-notifies a firing alert after the interval, and escalates at once', async () => {
    const { manager, ops, at, move } = setup();
    await manager.raise({ ...failed(), level: 'WARNING' });
    await at(window);
    move(window + 10 * S);
    await manager.raise({ ...failed(), level: 'WARNING' });
    await at(renotify);
    expect(ops.received).toHaveLength(1);
    await at(window + renotify);
    expect(ops.summary[1]).toEqual(['reminder WARNING backup-failed /etc/keys']);
    move(window + renotify + S);
    await manager.raise(failed());
    await at(2 * window + renotify + S);
    expect(ops.summary[2]).toEqual(['escalated CRITICAL backup-failed /etc/keys']);
  });

  it('never notifies an occurrence resolved before its first notice', async () => {
    const { manager, ops, history, at, move } = setup();
    await manager.raise(failed());
    move(5 * S);
    await manager.resolve(failed());
    await at(10 * window);
    expect(ops.received).toEqual([]);
    expect(await history.query()).toMatchObject([{ state: 'resolved', notifications: 0 }]);
  });

  it('opens a new occurrence when the condition returns after a notified resolve', async () => {
    const { manager, ops, at, move } = setup();
    await manager.raise(failed());
    await at(window);
    move(2 * window);
    await manager.resolve(failed());
    move(3 * window + S);
    // The resolve held for a whole window before this raise, even though no tick sent it yet.
    await manager.raise(failed());
    await at(4 * window + S);
    expect(ops.summary).toEqual([['raised CRITICAL backup-failed /etc/keys'], ['resolved CRITICAL backup-failed /etc/keys', 'raised CRITICAL backup-failed /etc/keys']]);
    const [resolved, raised] = ops.received[1]!.items;
    expect(resolved!.alert.id).not.toBe(raised!.alert.id);
  });

  it('resolve of a condition that is not firing does nothing', async () => {
    const { manager, ops, at } = setup();
    expect(await manager.resolve(failed())).toBeUndefined();
    await at(window);
    expect(ops.received).toEqual([]);
  });

  it('records every occurrence in the history, queryable by level, state and time', async () => {
    const { manager, history, at, move } = setup();
    await manager.raise(failed('/a'));
    await manager.raise({ rule: 'disk-space', level: 'WARNING', source: 'local', summary: '85 % full' });
    await at(window);
    move(2 * window);
    await manager.resolve(failed('/a'));
    await at(3 * window);
    expect((await history.query({ levels: ['CRITICAL'] })).map((a) => [a.source, a.state, a.notifications])).toEqual([['/a', 'resolved', 2]]);
    expect((await history.query({ state: 'firing' })).map((a) => a.rule)).toEqual(['disk-space']);
    expect(await history.query({ since: new Date(Date.parse('2026-11-26T00:00:00Z') + 3 * window) })).toHaveLength(1);
  });

  it('resumes firing alerts from the history without announcing them again', async () => {
    const first = setup();
    await first.manager.raise(failed());
    await first.at(window);
    const second = setup({ history: first.history });
    expect(await second.manager.resume()).toBe(1);
    second.move(2 * window);
    await second.manager.raise(failed());
    await second.at(3 * window);
    expect(second.ops.received).toEqual([]);
    second.move(4 * window);
    await second.manager.resolve(failed());
    await second.at(5 * window);
    expect(second.ops.summary).toEqual([['resolved CRITICAL backup-failed /etc/keys']]);
  });

  it('resumes a resolve that was held but not yet announced when the manager stopped', async () => {
    const first = setup();
    await first.manager.raise(failed());
    await first.at(window);
    first.move(2 * window);
    await first.manager.resolve(failed());
    const second = setup({ history: first.history });
    second.move(2 * window + 10 * S);
    expect(await second.manager.resume()).toBe(1);
    await second.at(3 * window + 10 * S);
    expect(second.ops.summary).toEqual([['resolved CRITICAL backup-failed /etc/keys']]);
    const third = setup({ history: first.history });
    expect(await third.manager.resume()).toBe(0);
  });

  it('keeps notifying the other channels when one fails, and reports which', async () => {
    const broken: AlertChannel = { name: 'pager', type: 'broken', send: async () => Promise.reject(new UsageError('pager is down')) };
    const warnings: string[] = [];
    const { manager, ops, at } = setup({
      channels: [new RecordingChannel('ops'), broken],
      logger: { warn: (fields, message) => warnings.push(`${message} ${JSON.stringify(fields)}`) },
    });
    void ops;
    await manager.raise(failed());
    const [delivery] = await at(window);
    expect(delivery!.results).toEqual({ ops: 'ok', pager: 'pager is down' });
    expect(warnings).toHaveLength(1);
  });

  it('does not hold up raise and resolve while a channel is slow to deliver', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    const slow: AlertChannel = { name: 'ops', type: 'slow', send: async (n) => (await held, void sent.push(n.items[0]!.kind)) };
    const { manager, at, move } = setup({ channels: [slow] });
    await manager.raise(failed());
    const delivering = at(window);
    move(window + S);
    await manager.resolve(failed());
    expect(sent).toEqual([]);
    release();
    await delivering;
    expect(sent).toEqual(['raised']);
  });

  it('ticks on its own once started, and stops', async () => {
    const { manager, ops } = setup({ groupWindowMs: 0, clock: Date.now });
    manager.start(5);
    await manager.raise(failed());
    for (let i = 0; i < 200 && ops.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await manager.stop();
    expect(ops.summary).toEqual([['raised CRITICAL backup-failed /etc/keys']]);
  });
});

describe('alerting config', () => {
  const valid = {
    channels: {
      ops: { type: 'email', host: 'smtp.example.com', from: 'tresor@example.com', to: ['ops@example.com'], auth: { user: 'tresor', password: { env: 'SMTP_PASSWORD' } } },
      hook: { type: 'webhook', url: 'https://hooks.example.com/tresor', secret: { file: '/etc/tresor/webhook.secret' } },
    },
    routes: [{ levels: ['CRITICAL'], channels: ['ops', 'hook'] }],
  };

  it('fills in defaults', () => {
    const c = parseAlertingConfig(valid);
    expect(c).toMatchObject({ groupWindowMs: 60_000, renotifyIntervalMs: 4 * 3600_000, groupBy: ['rule'] });
    expect(c.channels.ops).toMatchObject({ port: 587, security: 'starttls' });
    expect(c.channels.hook).toMatchObject({ attempts: 5 });
  });

  it('names a route to an unknown channel', () => {
    expect(() => parseAlertingConfig({ ...valid, routes: [{ levels: ['INFO'], channels: ['nope'] }] })).toThrow(/alerts\.routes\.0\.channels\.0: no channel named 'nope'/);
  });

  it('refuses a secret written inline, without echoing it', () => {
    const inline = { ...valid, channels: { ...valid.channels, hook: { ...valid.channels.hook, secret: 's3cr3t-inline' } } };
    let error: unknown;
    try {
      parseAlertingConfig(inline);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^alerts\.channels\.hook\.secret/);
    expect((error as Error).message).not.toContain('s3cr3t-inline');
  });

  it('checks at start that every referenced secret can be read, naming the reference only', async () => {
    const c = parseAlertingConfig(valid);
    process.env.SMTP_PASSWORD = 'pw-checked-at-start';
    try {
      await expect(checkAlertingSecrets(c)).rejects.toThrow('alert channel hook HMAC secret: cannot read secret file /etc/tresor/webhook.secret (ENOENT)');
      delete process.env.SMTP_PASSWORD;
      await expect(checkAlertingSecrets(c)).rejects.toThrow('alert channel ops SMTP password: environment variable SMTP_PASSWORD is not set or empty');
    } finally {
      delete process.env.SMTP_PASSWORD;
    }
  });

  it('refuses unknown keys and levels', () => {
    expect(() => parseAlertingConfig({ ...valid, renotify: 5 })).toThrow(UsageError);
    expect(() => parseAlertingConfig({ ...valid, routes: [{ levels: ['FATAL'], channels: ['ops'] }] })).toThrow(/routes\.0\.levels\.0/);
  });
});
