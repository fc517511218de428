import { subjects } from './subjects.js';

/**
 * JetStream streams and durable consumers as data; services create them idempotently at start
 * (libs/messaging). Names get a prefix (empty in production, unique per test run).
 */
export interface StreamDefinition {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly retention: 'limits' | 'workqueue' | 'interest';
  readonly maxAgeMs: number;
  readonly maxMsgBytes: number;
  readonly replicas: number;
  /** Publish de-duplication window (the job id is the message id). */
  readonly duplicateWindowMs: number;
  readonly description: string;
}

export interface ConsumerDefinition {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject?: string;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  /** Redelivery delays after a negative ack or an ack-wait timeout, in order. */
  readonly backoffMs: readonly number[];
  readonly maxAckPending: number;
  readonly deliverPolicy: 'all' | 'new';
  readonly description: string;
}

export interface TopologyOptions {
  readonly subjectRoot?: string;
  readonly namePrefix?: string;
  /** 1 for a single server, 3 (or 5) for a NATS cluster. */
  readonly replicas?: number;
  /** How long a worker may hold a job without a heartbeat before it is redelivered. */
  readonly jobAckWaitMs?: number;
  readonly jobMaxDeliver?: number;
  readonly eventMaxAgeMs?: number;
}

const DAY = 24 * 3600 * 1000;

/** The whole JetStream topology of a cluster. */
export function topology(options: TopologyOptions = {}) {
  const s = subjects(options.subjectRoot);
  const p = options.namePrefix ?? '';
  const replicas = options.replicas ?? 1;
  const ackWaitMs = options.jobAckWaitMs ?? 30_000;
  const maxDeliver = options.jobMaxDeliver ?? 5;
  const backoff = (n: number): number[] => Array.from({ length: Math.max(0, n - 1) }, (_, i) => ackWaitMs * (i + 1));

  const streams = {
    events: {
      name: `${p}TRESOR_EVENTS`,
      subjects: [s.events],
      retention: 'limits',
      maxAgeMs: options.eventMaxAgeMs ?? 30 * DAY,
      maxMsgBytes: 256 * 1024,
      replicas,
      duplicateWindowMs: 120_000,
      description: 'CloudEvents for integrators, audit and monitoring',
    },
    backupJobs: {
      name: `${p}TRESOR_JOBS_BACKUP`,
      subjects: [s.job('backup')],
      retention: 'workqueue',
      maxAgeMs: 7 * DAY,
      maxMsgBytes: 64 * 1024,
      replicas,
      duplicateWindowMs: 3600_000,
      description: 'Backup jobs shared by the backup-engine replicas',
    },
    recoveryJobs: {
      name: `${p}TRESOR_JOBS_RECOVERY`,
      subjects: [s.job('restore'), s.job('verify')],
      retention: 'workqueue',
      maxAgeMs: 7 * DAY,
      maxMsgBytes: 64 * 1024,
      replicas,
      duplicateWindowMs: 3600_000,
      description: 'Restore and verify jobs shared by the recovery replicas',
    },
    deadLetters: {
      name: `${p}TRESOR_DLQ`,
      subjects: [s.deadLetters],
      retention: 'limits',
      maxAgeMs: 30 * DAY,
      maxMsgBytes: 1024 * 1024 + 64 * 1024,
      replicas,
      duplicateWindowMs: 120_000,
      description: 'Messages no service could accept, with the reason in a header',
    },
  } satisfies Record<string, StreamDefinition>;

  const consumers = {
    backupEngine: {
      stream: streams.backupJobs.name,
      durable: `${p}backup-engine`,
      ackWaitMs,
      maxDeliver,
      backoffMs: backoff(maxDeliver),
      maxAckPending: 64,
      deliverPolicy: 'all',
      description: 'backup-engine replicas pull backup jobs',
    },
    recovery: {
      stream: streams.recoveryJobs.name,
      durable: `${p}recovery`,
      ackWaitMs,
      maxDeliver,
      backoffMs: backoff(maxDeliver),
      maxAckPending: 64,
      deliverPolicy: 'all',
      description: 'recovery replicas pull restore and verify jobs',
    },
    audit: {
      stream: streams.events.name,
      durable: `${p}audit`,
      ackWaitMs: 30_000,
      maxDeliver: -1,
      backoffMs: [],
      maxAckPending: 1,
      deliverPolicy: 'all',
      description: 'audit stores every event, one at a time, in stream order',
    },
    monitoring: {
      stream: streams.events.name,
      durable: `${p}monitoring`,
      ackWaitMs: 30_000,
      maxDeliver: 5,
      backoffMs: [],
      maxAckPending: 256,
      deliverPolicy: 'new',
      description: 'monitoring counts job outcomes and raises alerts',
    },
  } satisfies Record<string, ConsumerDefinition>;

  return { subjects: s, streams, consumers };
}
export type Topology = ReturnType<typeof topology>;
