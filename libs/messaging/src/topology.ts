import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConsumerDefinition, StreamDefinition } from '@tresor/contracts';

const ns = (ms: number): number => ms * 1_000_000;

/** Creates or updates a stream to match its definition (safe to run from every replica at start). */
export async function ensureStream(jsm: JetStreamManager, def: StreamDefinition): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: def.name,
    subjects: [...def.subjects],
    retention: def.retention === 'workqueue' ? RetentionPolicy.Workqueue : def.retention === 'interest' ? RetentionPolicy.Interest : RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: ns(def.maxAgeMs),
    max_msg_size: def.maxMsgBytes,
    num_replicas: def.replicas,
    duplicate_window: ns(def.duplicateWindowMs),
    description: def.description,
  };
  try {
    await jsm.streams.info(def.name);
    const { retention: _r, storage: _s, ...updatable } = config;
    await jsm.streams.update(def.name, updatable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add(config);
    } catch (addErr) {
      // Another replica created it meanwhile.
      if (!/already in use|exists/i.test(String((addErr as Error).message))) throw addErr;
    }
  }
}

/** Creates or updates a durable pull consumer. */
export async function ensureConsumer(jsm: JetStreamManager, def: ConsumerDefinition): Promise<void> {
  const config = {
    durable_name: def.durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: ns(def.ackWaitMs),
    max_deliver: def.maxDeliver,
    max_ack_pending: def.maxAckPending,
    deliver_policy: def.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    description: def.description,
    ...(def.backoffMs.length > 0 ? { backoff: def.backoffMs.map(ns) } : {}),
    ...(def.filterSubject ? { filter_subject: def.filterSubject } : {}),
  };
  try {
    await jsm.consumers.info(def.stream, def.durable);
    const { durable_name: _d, deliver_policy: _p, ...updatable } = config;
    await jsm.consumers.update(def.stream, def.durable, updatable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(def.stream, config);
  }
}

export async function ensureTopology(nc: NatsConnection, streams: readonly StreamDefinition[], consumers: readonly ConsumerDefinition[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const s of streams) await ensureStream(jsm, s);
  for (const c of consumers) await ensureConsumer(jsm, c);
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(String((err as Error)?.message));
}
