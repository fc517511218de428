// A Tresor integration: follows every event of a cluster (`tresor.events.>` on the TRESOR_EVENTS
// stream) with a durable JetStream consumer, validates each CloudEvent against the schema of its
// type and version, prints one JSON line per event and acknowledges it. Restarted, it resumes
// after the last event it acknowledged.
//
//   TRESOR_NATS_URL=nats://127.0.0.1:4222 npx tsx examples/events-consumer/main.ts [durable-name]
//
// Environment: TRESOR_NATS_URL (comma-separated servers), TRESOR_SUBJECT_ROOT and
// TRESOR_NAME_PREFIX as configured on the cluster, EXAMPLE_MAX_EVENTS to stop after N events.
// Event types and their data schemas: docs/events.md.
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { cloudEventSchema, findEventByType } from '@tresor/contracts';

const servers = (process.env.TRESOR_NATS_URL ?? 'nats://127.0.0.1:4222').split(',');
const root = process.env.TRESOR_SUBJECT_ROOT ?? 'tresor';
const stream = `${process.env.TRESOR_NAME_PREFIX ?? ''}TRESOR_EVENTS`;
const durable = process.argv[2] ?? 'example-integration';
const maxEvents = Number(process.env.EXAMPLE_MAX_EVENTS ?? Infinity);

const nc = await connect({ servers, name: `tresor-events-consumer ${durable}` });
const jsm = await jetstreamManager(nc);
// Durable: the server remembers what this integration acknowledged. New: starts at the oldest event kept.
await jsm.consumers.add(stream, {
  durable_name: durable,
  filter_subject: `${root}.events.>`,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  max_deliver: 10,
  ack_wait: 30_000_000_000, // ns
});

const consumer = await jetstream(nc).consumers.get(stream, durable);
const messages = await consumer.consume({ max_messages: 100 });
let seen = 0;
const stop = async (): Promise<void> => {
  messages.stop();
  await nc.drain();
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

for await (const m of messages) {
  const envelope = cloudEventSchema.safeParse(JSON.parse(m.string()));
  const definition = envelope.success ? findEventByType(envelope.data.type) : undefined;
  if (!envelope.success || !definition) {
    // Not a CloudEvent, or a type/version this integration does not know: log and move on.
    console.error(JSON.stringify({ skipped: m.subject, seq: m.seq, reason: envelope.success ? `unknown type ${envelope.data.type}` : 'not a CloudEvent' }));
    m.term();
  } else {
    const data = definition.data.safeParse(envelope.data.data);
    if (!data.success) {
      console.error(JSON.stringify({ skipped: m.subject, seq: m.seq, reason: `data of ${envelope.data.type}: ${data.error.issues[0]?.message}` }));
      m.term();
    } else {
      // Do the integration's work here (open a ticket, update a CMDB, feed a SIEM); ack when done.
      console.log(JSON.stringify({ seq: m.seq, type: envelope.data.type, subject: envelope.data.subject, time: envelope.data.time, data: data.data }));
      m.ack();
    }
  }
  if (++seen >= maxEvents) await stop();
}
