import 'reflect-metadata';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Identity } from '@tresor/auth';
import { MongoCatalog, MongoJobStore } from '@tresor/catalog';
import { topology } from '@tresor/contracts';
import { NotFoundError, RateLimitedError } from '@tresor/errors';
import { Bus, EVENT_TAIL_PREFIX, createLogger, ensureTopology } from '@tresor/messaging';
import { mongoDatabase, natsScope } from '../../../../test/support/infra.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { EventsService, MAX_STREAMS_PER_CALLER } from './events.service.js';
import type { EventStreamRequest } from './events.service.js';

/** Opens a stream and reads it as the controller does (a consumer's close waits for its reader to stop). */
async function reading(events: EventsService, who: Identity, req: EventStreamRequest = {}): Promise<{ close(): Promise<void> }> {
  const stream = await events.stream(who, req);
  const read = (async () => {
    for await (const _ of stream);
  })();
  return {
    async close() {
      await stream.close();
      await read;
    },
  };
}

const viewer = (name: string, tenant = 'default'): Identity => ({ subject: `ldap:${name}`, name, kind: 'ldap', roles: ['viewer'], tenants: [tenant] });

/** An EventsService on a fresh NATS namespace and MongoDB-wire database. */
async function eventsService() {
  const nats = await natsScope();
  onTestFinished(() => nats.cleanup());
  const mongo = await mongoDatabase();
  onTestFinished(() => mongo.cleanup());
  const nc = await nats.connect();
  const t = topology({ subjectRoot: nats.subjectPrefix, namePrefix: nats.namePrefix });
  await ensureTopology(nc, [t.streams.events], []);
  const bus = new Bus({ nc, topology: t, service: 'gateway', instance: 'events-spec', logger: createLogger('gateway', 'events-spec', 'silent') });
  const jobs = await MongoJobStore.open(mongo.db);
  const tenants = new TenantsService(mongo.db, await MongoCatalog.open(mongo.db));
  const events = new EventsService(bus, jobs, tenants);
  onTestFinished(() => events.onModuleDestroy());
  return { nc, t, jobs, tenants, events };
}

describe('EventsService', () => {
  it("refuses another tenant's job as not found, also to a reader resuming with Last-Event-ID", { timeout: 120_000 }, async () => {
    const { jobs, tenants, events } = await eventsService();
    await tenants.claim(viewer('root', '*'), '/data/payments', 'payments');
    const { job } = await jobs.create({ kind: 'backup', params: { source: { kind: 'filesystem', location: '/data/payments' } } });
    for (const req of [{ job: job.id }, { job: job.id, lastEventId: '3' }]) await expect(events.stream(viewer('eve'), req), JSON.stringify(req)).rejects.toThrow(new NotFoundError(`job ${job.id} not found`));
    const own = await reading(events, viewer('pat', 'payments'), { job: job.id, lastEventId: '3' });
    await own.close();
  });

  it(`holds at most ${MAX_STREAMS_PER_CALLER} open streams per caller (each is a NATS consumer), refusing more with 429 until one closes`, { timeout: 120_000 }, async () => {
    const { nc, t, events } = await eventsService();
    const jsm = await jetstreamManager(nc);
    const consumers = async () => {
      let n = 0;
      for await (const c of jsm.consumers.list(t.streams.events.name)) if (c.name.startsWith(EVENT_TAIL_PREFIX)) n++;
      return n;
    };

    const eve = viewer('eve');
    const opened = await Promise.all(Array.from({ length: MAX_STREAMS_PER_CALLER }, () => reading(events, eve)));
    await expect(events.stream(eve, {})).rejects.toThrow(RateLimitedError);
    await expect(events.stream(eve, {})).rejects.toThrow(`eve already has ${MAX_STREAMS_PER_CALLER} event streams open at this gateway: close one (a console tab) first`);
    expect(await consumers(), 'a refused stream creates no consumer').toBe(MAX_STREAMS_PER_CALLER);
    // Another caller is not held back by eve's streams.
    const bob = await reading(events, viewer('bob'));
    await opened[0]!.close();
    await opened[0]!.close();
    const again = await reading(events, eve);
    await expect(events.stream(eve, {}), 'closing one twice frees one place, not two').rejects.toThrow(RateLimitedError);
    await Promise.all([...opened.slice(1), again, bob].map((s) => s.close()));
    expect(await consumers()).toBe(0);
  });
});
