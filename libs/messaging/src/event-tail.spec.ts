import { jetstreamManager } from '@nats-io/jetstream';
import { EVENTS, topology } from '@tresor/contracts';
import { describe, expect, it, onTestFinished } from 'vitest';
import { natsScope } from '../../../test/support/infra.js';
import { Bus } from './bus.js';
import { EVENT_TAIL_PREFIX, tailEvents } from './event-tail.js';
import type { EventTail, TailedEvent } from './event-tail.js';
import { createLogger } from './logger.js';
import { ensureTopology } from './topology.js';

async function take(tail: EventTail, n: number): Promise<TailedEvent[]> {
  const got: TailedEvent[] = [];
  for await (const e of tail) {
    got.push(e);
    if (got.length === n) break;
  }
  return got;
}

describe('tailEvents', () => {
  it('reads new events in stream order, resumes after a sequence, and deletes its consumer on close', async () => {
    const nats = await natsScope();
    onTestFinished(() => nats.cleanup());
    const nc = await nats.connect();
    const t = topology({ subjectRoot: nats.subjectPrefix, namePrefix: nats.namePrefix });
    await ensureTopology(nc, [t.streams.events], []);
    const bus = new Bus({ nc, topology: t, service: 'gateway', instance: 'tail-spec', logger: createLogger('gateway', 'tail-spec', 'silent') });
    const jsm = await jetstreamManager(nc);
    const tails = async () => {
      const names: string[] = [];
      for await (const c of jsm.consumers.list(t.streams.events.name)) if (c.name.startsWith(EVENT_TAIL_PREFIX)) names.push(c.name);
      return names;
    };
    await bus.publishEvent(EVENTS.backupProgress, { jobId: 'before', phase: 'reading', files: 1, bytesIn: 1 });

    const live = await tailEvents(bus, { from: 'new' });
    expect(await tails()).toEqual([live.consumer]);
    for (const files of [1, 2, 3]) await bus.publishEvent(EVENTS.backupProgress, { jobId: 'job-a', phase: 'reading', files, bytesIn: files * 10 }, { subject: 'job-a' });
    const seen = await take(live, 3);
    expect(seen.map((e) => (e.event.data as { files: number }).files)).toEqual([1, 2, 3]);
    expect(seen.map((e) => e.event.subject)).toEqual(['job-a', 'job-a', 'job-a']);
    await live.close();
    expect(await tails()).toEqual([]);

    const resumed = await tailEvents(bus, { from: 'after', seq: seen[0]!.seq });
    onTestFinished(() => resumed.close());
    expect((await take(resumed, 2)).map((e) => (e.event.data as { files: number }).files)).toEqual([2, 3]);
  });
});
