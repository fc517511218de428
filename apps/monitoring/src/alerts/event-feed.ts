import type { ConsumerDefinition } from '@tresor/contracts';
import type { Bus, Logger } from '@tresor/messaging';

/**
 * Feeds TRESOR_EVENTS to the alert rules through monitoring's durable consumer, so a job that
 * fails while monitoring is down still raises its alert when it is back. Each event is acked
 * after it was handled; a redelivered one is harmless (raise de-duplicates, resolve is idempotent).
 */
export function consumeEventsForAlerts(bus: Bus, consumer: ConsumerDefinition, handle: (data: Uint8Array) => Promise<void>, logger: Logger): { stop(): Promise<void> } {
  let stopping = false;
  let iterator: { close(): Promise<void | Error> } | undefined;
  const run = async (): Promise<void> => {
    while (!stopping) {
      try {
        const c = await bus.js.consumers.get(consumer.stream, consumer.durable);
        const messages = await c.consume({ max_messages: 64 });
        iterator = messages;
        for await (const m of messages) {
          // In order, one at a time: a success must not overtake the failure before it.
          await handle(m.data);
          m.ack();
          if (stopping) break;
        }
      } catch (err) {
        // A drained connection (service shutdown) ends the feed; anything else is retried.
        if (stopping || bus.nc.isClosed()) break;
        logger.warn({ err: (err as Error).message, consumer: consumer.durable }, 'alert event consumer stopped; restarting');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const loop = run();
  return {
    async stop() {
      stopping = true;
      await iterator?.close();
      await loop;
    },
  };
}
