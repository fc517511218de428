// audit: consumes every event in stream order and stores it in MongoDB (the hash chain comes later).
import { MongoClient } from 'mongodb';
import { cloudEventSchema, EVENTS } from '@tresor/contracts';
import { baseConfigSchema, loadConfig, runService, start } from '@tresor/service';

start(async () => {
  const config = loadConfig(baseConfigSchema);
  const client = new MongoClient(config.TRESOR_MONGODB_URL, { serverSelectionTimeoutMS: 10_000, appName: 'tresor-audit' });
  await client.connect();
  const log = client.db(config.TRESOR_MONGODB_DB).collection<{ _id: number; eventId: string; type: string; subject?: string; time: string; event: unknown; storedAt: Date }>('audit_log');
  await runService({
    name: 'audit',
    config,
    consumers: (t) => [t.consumers.audit],
    async setup({ bus, topology, logger }) {
      let stopping = false;
      const loop = (async () => {
        while (!stopping) {
          try {
            const consumer = await bus.js.consumers.get(topology.consumers.audit.stream, topology.consumers.audit.durable);
            const messages = await consumer.consume({ max_messages: 1 });
            for await (const m of messages) {
              if (stopping) break;
              const seq = m.info.streamSequence;
              const parsed = cloudEventSchema.safeParse(safeJson(m.data));
              if (!parsed.success) {
                await bus.deadLetter(m.subject, m.data, `not a CloudEvent: ${parsed.error.issues[0]?.message}`);
                m.term();
                continue;
              }
              // The stream sequence is the audit position: a redelivery upserts the same document.
              await log.updateOne(
                { _id: seq },
                { $setOnInsert: { eventId: parsed.data.id, type: parsed.data.type, ...(parsed.data.subject ? { subject: parsed.data.subject } : {}), time: parsed.data.time, event: parsed.data, storedAt: new Date() } },
                { upsert: true },
              );
              if (!parsed.data.type.startsWith('io.tresor.audit.')) {
                await bus.publishEvent(EVENTS.auditAppended, { seq, eventId: parsed.data.id, eventType: parsed.data.type }, { id: `audit-${parsed.data.id}` });
              }
              m.ack();
            }
          } catch (err) {
            if (!stopping) logger.warn({ err: (err as Error).message }, 'audit consumer restarting');
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      })();
      return {
        stop: async () => {
          stopping = true;
          await Promise.race([loop, new Promise((r) => setTimeout(r, 2000))]);
          await client.close();
        },
      };
    },
  });
});

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}
