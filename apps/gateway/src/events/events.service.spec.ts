import 'reflect-metadata';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Identity } from '@tresor/auth';
import { MongoCatalog, MongoJobStore } from '@tresor/catalog';
import { topology } from '@tresor/contracts';
import { RateLimitedError } from '@tresor/errors';
import { Bus, EVENT_TAIL_PREFIX, createLogger, ensureTopology } from '@tresor/messaging';
import { mongoDatabase, natsScope } from '../../../../test/support/infra.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { EventsService, MAX_STREAMS_PER_CALLER } from './events.service.js';

/** Opens a stream and reads it as the controller does (a consumer's close waits for its reader to stop). */
async function reading(events: EventsService, who: Identity): Promise<{ close(): Promise<void> }> {
  const stream = await events.stream(who, {});
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

const viewer = (name: string): Identity => ({ subject: `ldap:${name}`, name, kind: 'ldap', roles: ['viewer'], tenants: ['default'] });

describe('EventsService', () => {
  it(`holds at most ${MAX_STREAMS_PER_CALLER} open streams per caller (each is a NATS consumer), refusing more with 429 until one closes`, { timeout: 120_000 }, async () => {
    const nats = await natsScope();
    onTestFinished(() => nats.cleanup());
    const mongo = await mongoDatabase();
    onTestFinished(() => mongo.cleanup());
    const nc = await nats.connect();
    const t = topology({ subjectRoot: nats.subjectPrefix, namePrefix: nats.namePrefix });
    await ensureTopology(nc, [t.streams.events], []);
    const bus = new Bus({ nc, topology: t, service: 'gateway', instance: 'events-spec', logger: createLogger('gateway', 'events-spec', 'silent') });
    const events = new EventsService(bus, await MongoJobStore.open(mongo.db), new TenantsService(mongo.db, await MongoCatalog.open(mongo.db)));
    onTestFinished(() => events.onModuleDestroy());
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
