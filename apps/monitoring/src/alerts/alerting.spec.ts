import { afterEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { MemoryAlertHistory, parseAlertingConfig } from '@tresor/alerting';
import { EVENTS, topology } from '@tresor/contracts';
import type { CloudEvent } from '@tresor/contracts';
import { Bus, createLogger, ensureTopology } from '@tresor/messaging';
import { natsScope, type NatsScope } from '../../../../test/support/infra.js';
import { startHttpSink, type HttpSink } from '../../../../test/support/sinks.js';
import type { AlertingWiring } from './alerting.js';
import { startAlerting } from './alerting.js';

const SECRET = 'monitoring-hmac-3a9f';

/** The monitoring service's alert path on a real NATS: job events in, alert events and webhook deliveries out. */
describe('monitoring alerts from job events', () => {
  let scope: NatsScope | undefined;
  let sink: HttpSink | undefined;
  let wiring: AlertingWiring | undefined;
  afterEach(async () => {
    await wiring?.stop();
    await sink?.close();
    await scope?.cleanup();
    delete process.env.TRESOR_TEST_MONITORING_HMAC;
  });

  async function setup() {
    scope = await natsScope();
    sink = await startHttpSink();
    process.env.TRESOR_TEST_MONITORING_HMAC = SECRET;
    const t = topology({ subjectRoot: scope.subjectPrefix, namePrefix: scope.namePrefix });
    const nc: NatsConnection = await scope.connect();
    await ensureTopology(nc, [t.streams.events], []);
    const logger = createLogger('monitoring', 'test', 'silent');
    const bus = new Bus({ nc, topology: t, service: 'monitoring', instance: 'monitoring@test', logger });
    const alertEvents: CloudEvent<Record<string, unknown>>[] = [];
    nc.subscribe(t.subjects.event('alert.*'), { callback: (_e, m) => void alertEvents.push(JSON.parse(Buffer.from(m.data).toString('utf8'))) });
    // Job events as the services publish them; monitoring sees them on the same subjects.
    nc.subscribe(t.subjects.event('*.*'), { callback: (_e, m) => void wiring?.onEvent(m.data) });
    const config = parseAlertingConfig({
      groupWindowMs: 0,
      channels: { hook: { type: 'webhook', url: `${sink.url}/alerts`, secret: { env: 'TRESOR_TEST_MONITORING_HMAC' } } },
      routes: [{ levels: ['WARNING', 'CRITICAL'], channels: ['hook'] }],
    });
    const lookups: string[] = [];
    wiring = await startAlerting({
      bus, config, history: new MemoryAlertHistory(), logger, tickMs: 50,
      lookupSource: async (jobId) => (lookups.push(jobId), jobId === 'job-old' ? '/srv/old' : undefined),
    });
    return { bus, alertEvents, lookups };
  }

  const waitFor = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(ok(), what).toBe(true);
  };

  it('raises on a failed backup, resolves on the next success of that source, and publishes both events', async () => {
    const { bus, alertEvents } = await setup();
    await bus.publishEvent(EVENTS.backupRequested, { jobId: 'job-1', source: { kind: 'filesystem', location: '/etc/keys' }, level: 'full', tags: [] });
    await bus.publishEvent(EVENTS.backupFailed, { jobId: 'job-1', attempt: 5, error: { code: 'IO', message: 'cannot read /etc/keys/a.key: EACCES' } });
    await waitFor('raised delivered', () => sink!.requests.length === 1 && alertEvents.length === 1);
    const raised = sink!.requests[0]!.json as { alerts: { kind: string; rule: string; source: string; level: string; summary: string; details: Record<string, unknown> }[] };
    expect(raised.alerts).toMatchObject([
      { kind: 'raised', rule: 'backup-failed', level: 'CRITICAL', source: '/etc/keys', summary: 'backup of /etc/keys failed: cannot read /etc/keys/a.key: EACCES', details: { jobId: 'job-1', code: 'IO' } },
    ]);
    expect(alertEvents[0]).toMatchObject({ type: 'io.tresor.alert.raised.v1', data: { severity: 'critical', summary: raised.alerts[0]!.summary } });
    const alertId = (alertEvents[0]!.data as { alertId: string }).alertId;

    // A second failure of the same source is the same alert: nothing new goes out.
    await bus.publishEvent(EVENTS.backupRequested, { jobId: 'job-2', source: { kind: 'filesystem', location: '/etc/keys' }, level: 'full', tags: [] });
    await bus.publishEvent(EVENTS.backupFailed, { jobId: 'job-2', attempt: 5, error: { code: 'IO', message: 'still EACCES' } });
    await bus.publishEvent(EVENTS.backupRequested, { jobId: 'job-3', source: { kind: 'filesystem', location: '/etc/keys' }, level: 'full', tags: [] });
    await bus.publishEvent(EVENTS.backupCompleted, { jobId: 'job-3', backupId: 'b3', level: 'full', files: 1, bytesIn: 1, bytesStored: 1, archiveSize: 1 });
    await waitFor('resolved delivered', () => sink!.requests.length === 2 && alertEvents.length === 2);
    expect((sink!.requests[1]!.json as { alerts: { kind: string }[] }).alerts.map((a) => a.kind)).toEqual(['resolved']);
    expect(alertEvents[1]).toMatchObject({ type: 'io.tresor.alert.resolved.v1', data: { alertId } });
    expect(wiring!.manager.firing()).toEqual([]);
    expect(sink!.requests.map((r) => r.body.toString()).join()).not.toContain(SECRET);
  });

  it('raises on a verify that finds a problem and resolves on the next passing verify of that backup', async () => {
    const { bus, alertEvents } = await setup();
    await bus.publishEvent(EVENTS.verifyRequested, { jobId: 'v-1', backupId: 'b1', deep: true });
    await bus.publishEvent(EVENTS.verifyCompleted, { jobId: 'v-1', backupId: 'b1', ok: false, deep: true, problem: 'entry a.key: SHA-256 mismatch' });
    await waitFor('raised', () => alertEvents.length === 1);
    expect(alertEvents[0]).toMatchObject({ data: { severity: 'critical', summary: 'verify of backup b1 found a problem: entry a.key: SHA-256 mismatch' } });
    // A passing verify of another backup does not resolve it.
    await bus.publishEvent(EVENTS.verifyCompleted, { jobId: 'v-2', backupId: 'b2', ok: true, deep: true });
    await bus.publishEvent(EVENTS.verifyCompleted, { jobId: 'v-3', backupId: 'b1', ok: true, deep: true });
    await waitFor('resolved', () => alertEvents.length === 2);
    expect(alertEvents[1]).toMatchObject({ type: 'io.tresor.alert.resolved.v1' });
    expect((sink!.requests.map((r) => (r.json as { alerts: { kind: string; key: string }[] }).alerts[0]))).toMatchObject([
      { kind: 'raised', key: 'b1' },
      { kind: 'resolved', key: 'b1' },
    ]);
  });

  it('finds the source of a job it did not see requested, and alerts on a verify that cannot run as WARNING', async () => {
    const { bus, alertEvents, lookups } = await setup();
    await bus.publishEvent(EVENTS.backupFailed, { jobId: 'job-old', attempt: 1, error: { code: 'IO', message: 'disk full' } });
    await bus.publishEvent(EVENTS.verifyFailed, { jobId: 'v-9', attempt: 1, error: { code: 'NOT_FOUND', message: 'backup x not found' } });
    await waitFor('two raised', () => alertEvents.length === 2);
    expect(lookups).toEqual(['job-old']);
    expect(alertEvents.map((e) => (e.data as { summary: string; severity: string }))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'critical', summary: 'backup of /srv/old failed: disk full' }),
        expect.objectContaining({ severity: 'warning', summary: 'verify of job v-9 could not run: backup x not found' }),
      ]),
    );
  });
});
