import { describe, expect, it, onTestFinished } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { natsScope, startOwnNatsServer, type NatsScope } from '../../support/infra.js';

describe('NATS JetStream through @nats-io/transport-node and @nats-io/jetstream', () => {
  it('creates a work-queue stream, publishes, and a durable pull consumer fetches and acks', async () => {
    const scope: NatsScope = await natsScope();
    onTestFinished(() => scope.cleanup());
    const nc = await scope.connect();
    const jsm = await jetstreamManager(nc);
    const stream = `${scope.namePrefix}_WORK`;
    await jsm.streams.add({
      name: stream,
      subjects: [`${scope.subjectPrefix}.work.>`],
      retention: RetentionPolicy.Workqueue,
    });
    const js = jetstream(nc);
    for (let i = 1; i <= 3; i++) {
      const ack = await js.publish(`${scope.subjectPrefix}.work.backup`, JSON.stringify({ job: i }), {
        msgID: `job-${i}`,
      });
      expect(ack.seq).toBe(i);
    }
    // Same msgID again: deduplicated by the stream.
    expect(
      (await js.publish(`${scope.subjectPrefix}.work.backup`, '{"job":1}', { msgID: 'job-1' })).duplicate,
    ).toBe(true);

    await jsm.consumers.add(stream, {
      durable_name: 'engine',
      ack_policy: AckPolicy.Explicit,
      max_deliver: 5,
    });
    const consumer = await js.consumers.get(stream, 'engine');
    const jobs: number[] = [];
    const batch = await consumer.fetch({ max_messages: 3, expires: 2000 });
    for await (const m of batch) {
      jobs.push((m.json() as { job: number }).job);
      m.ack();
    }
    expect(jobs).toEqual([1, 2, 3]);
    await nc.flush();
    const info = await consumer.info();
    expect(info.num_ack_pending).toBe(0);
    expect(info.delivered.stream_seq).toBe(3);
    // Work-queue retention removes acked messages.
    await expect.poll(async () => (await jsm.streams.info(stream)).state.messages).toBe(0);
  });

  it('starts an own nats-server that survives a kill -9 with its JetStream data', async () => {
    const server = await startOwnNatsServer();
    try {
      let nc = await connect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'FAULT', subjects: ['fault.>'] });
      await jetstream(nc).publish('fault.x', 'persisted');
      await nc.close();

      server.kill();
      await server.restart();

      nc = await connect({ servers: server.url });
      const msg = await (await jetstreamManager(nc)).streams.getMessage('FAULT', { seq: 1 });
      expect(msg?.string()).toBe('persisted');
      await nc.close();
    } finally {
      await server.stop();
    }
  });
});
