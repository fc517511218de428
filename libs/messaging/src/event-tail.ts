import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerConfig, ConsumerMessages } from '@nats-io/jetstream';
import { cloudEventSchema } from '@tresor/contracts';
import type { CloudEvent } from '@tresor/contracts';
import type { Bus } from './bus.js';
import { safeJson } from './decode.js';

/** Where a tail starts: only events published from now on, after a stream sequence (a resume), or since a time. */
export type TailStart = { from: 'new' } | { from: 'after'; seq: number } | { from: 'since'; time: Date };

/** One event read from TRESOR_EVENTS with its stream sequence (the resume point of a reader). */
export interface TailedEvent {
  readonly seq: number;
  readonly event: CloudEvent;
}

/** A live read of the event stream; `close()` deletes its consumer on the server. */
export interface EventTail extends AsyncIterable<TailedEvent> {
  /** The name of its consumer on TRESOR_EVENTS. */
  readonly consumer: string;
  close(): Promise<void>;
}

/** Prefix of the consumers tails create, so operators (and tests) can tell them from durable ones. */
export const EVENT_TAIL_PREFIX = 'tail_';
/** The server deletes a tail's consumer this long after its reader went away without closing it (a killed replica). */
const INACTIVE_THRESHOLD_MS = 60_000;
/** Events pulled per request; a slow reader holds at most this many in memory. */
const BATCH = 64;

const ns = (ms: number): number => ms * 1_000_000;

function startConfig(start: TailStart): Partial<ConsumerConfig> {
  if (start.from === 'after') return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq + 1 };
  if (start.from === 'since') return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time.toISOString() };
  return { deliver_policy: DeliverPolicy.New };
}

/**
 * Reads the cluster's events from `start` through an ephemeral, unacknowledged consumer of its own
 * (no subscribe permission on `tresor.events.>` is needed: deliveries come to the reader's inbox).
 * Malformed messages are skipped: a reader relays events, it does not judge producers.
 */
export async function tailEvents(bus: Bus, start: TailStart): Promise<EventTail> {
  const jsm = await jetstreamManager(bus.nc);
  const stream = bus.topology.streams.events.name;
  const name = `${EVENT_TAIL_PREFIX}${randomUUID().replace(/-/g, '')}`;
  await jsm.consumers.add(stream, {
    name,
    ack_policy: AckPolicy.None,
    inactive_threshold: ns(INACTIVE_THRESHOLD_MS),
    mem_storage: true,
    num_replicas: 1,
    description: `event tail of ${bus.source}`,
    ...startConfig(start),
  });
  let messages: ConsumerMessages;
  try {
    messages = await (await bus.js.consumers.get(stream, name)).consume({ max_messages: BATCH });
  } catch (err) {
    await jsm.consumers.delete(stream, name).catch(() => undefined);
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    consumer: name,
    close() {
      closed ??= (async () => {
        await messages.close();
        // Gone already (inactive threshold, stream recreated): nothing left to clean up.
        await jsm.consumers.delete(stream, name).catch(() => undefined);
      })();
      return closed;
    },
    async *[Symbol.asyncIterator]() {
      for await (const m of messages) {
        const parsed = cloudEventSchema.safeParse(safeJson(m.data));
        if (parsed.success) yield { seq: m.seq, event: parsed.data };
      }
    },
  };
}
