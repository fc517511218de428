import { jetstreamManager } from '@nats-io/jetstream';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConsumerDefinition } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';

/** Job kinds whose events the metrics follow (`<kind>.started|completed|failed`). */
type JobKind = 'backup' | 'restore' | 'verify';

/** Durations of backup, restore and verify jobs: seconds to hours. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600];

interface EventEnvelope {
  source?: string;
  type?: string;
  time?: string;
  data?: Record<string, unknown>;
}

/**
 * The Prometheus registry of one service process (docs/monitoring.md lists every series). Every
 * service gets the job, byte, queue and error series from the bootstrap; the monitoring service
 * also feeds the cluster-wide SLIs (`observeBackupOutcome`, `observeRecovery`).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly jobs: Counter<'kind' | 'outcome'>;
  readonly jobDuration: Histogram<'kind' | 'outcome'>;
  readonly bytes: Counter<'kind' | 'stage'>;
  readonly compressionRatio: Gauge;
  readonly errors: Counter<'kind' | 'code'>;
  readonly queuePending: Gauge<'stream' | 'consumer'>;
  readonly backupsBySource: Counter<'source' | 'outcome'>;
  private readonly lastSuccess = new Map<string, number>();
  private readonly outcomes = new Map<string, { ok: number; failed: number }>();
  private readonly rto = new Map<string, { seconds: number; kind: string }>();

  constructor(service: string, instance: string, now: () => number = Date.now) {
    this.registry.setDefaultLabels({ service, instance });
    collectDefaultMetrics({ register: this.registry, prefix: 'tresor_' });
    const registers = [this.registry];
    this.jobs = new Counter({ name: 'tresor_jobs_total', help: 'Jobs this process finished, by kind (backup, restore, verify) and outcome (completed, failed).', labelNames: ['kind', 'outcome'], registers });
    this.jobDuration = new Histogram({ name: 'tresor_job_duration_seconds', help: 'Time from a job starting to its outcome event, by kind and outcome.', labelNames: ['kind', 'outcome'], buckets: DURATION_BUCKETS, registers });
    this.bytes = new Counter({ name: 'tresor_bytes_total', help: 'Bytes of finished jobs: stage=read (source bytes a backup read), stored (compressed bytes it added), restored.', labelNames: ['kind', 'stage'], registers });
    this.compressionRatio = new Gauge({ name: 'tresor_backup_compression_ratio', help: 'Source bytes read divided by bytes stored, of the last backup this process completed.', registers });
    this.errors = new Counter({ name: 'tresor_errors_total', help: 'Failed jobs of this process by kind and Tresor error code (IO, NOT_FOUND, INTEGRITY, ...).', labelNames: ['kind', 'code'], registers });
    this.queuePending = new Gauge({ name: 'tresor_queue_pending_messages', help: 'Messages waiting in a JetStream consumer this service pulls from (num_pending + num_ack_pending).', labelNames: ['stream', 'consumer'], registers });
    this.backupsBySource = new Counter({ name: 'tresor_sli_backups_total', help: 'Backups per source and outcome (completed, failed) the monitoring service saw; the base of the success rate.', labelNames: ['source', 'outcome'], registers });
    const outcomes = this.outcomes;
    new Gauge({
      name: 'tresor_sli_backup_success_ratio',
      help: 'SLI: completed / (completed + failed) backups per source since the monitoring service started.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, o] of outcomes) this.set({ source }, o.ok / Math.max(1, o.ok + o.failed));
      },
    });
    const lastSuccess = this.lastSuccess;
    new Gauge({
      name: 'tresor_sli_last_success_timestamp_seconds',
      help: 'Unix time of the last successful backup per source.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, ms] of lastSuccess) this.set({ source }, ms / 1000);
      },
    });
    new Gauge({
      name: 'tresor_sli_rpo_seconds',
      help: 'SLI: recovery point, the age of the last successful backup per source (grows until the next success).',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        const t = now();
        for (const [source, ms] of lastSuccess) this.set({ source }, Math.max(0, (t - ms) / 1000));
      },
    });
    const rto = this.rto;
    new Gauge({
      name: 'tresor_sli_rto_seconds',
      help: 'SLI: recovery time, the duration of the last restore or restore drill per source (kind=restore|drill).',
      labelNames: ['source', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const [source, r] of rto) this.set({ source, kind: r.kind }, r.seconds);
      },
    });
  }

  /** Records a backup outcome of a source (the SLIs: success rate, RPO). */
  observeBackupOutcome(source: string, ok: boolean, at: number): void {
    const o = this.outcomes.get(source) ?? { ok: 0, failed: 0 };
    if (ok) o.ok++;
    else o.failed++;
    this.outcomes.set(source, o);
    this.backupsBySource.inc({ source, outcome: ok ? 'completed' : 'failed' });
    if (ok) this.noteSuccess(source, at);
  }

  /** Seeds or advances the last success of a source (from the catalog at start, or an event). */
  noteSuccess(source: string, at: number): void {
    if (at > (this.lastSuccess.get(source) ?? 0)) this.lastSuccess.set(source, at);
  }

  /** Records how long a restore (or a restore drill) of a source took: the RTO SLI. */
  observeRecovery(source: string, kind: 'restore' | 'drill', seconds: number): void {
    this.rto.set(source, { seconds, kind });
  }

  /** The text exposition Prometheus scrapes. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Follows the job events this process publishes (its bus source) to count jobs, their durations,
   * bytes and errors, and keeps the queue depth of `consumers` current. Returns how to stop.
   */
  followJobs(bus: Bus, consumers: readonly ConsumerDefinition[]): () => void {
    const started = new Map<string, number>();
    const sub = bus.nc.subscribe(bus.topology.subjects.event('*.*'), {
      callback: (_err, msg) => {
        let ev: EventEnvelope;
        try {
          ev = JSON.parse(Buffer.from(msg.data).toString('utf8')) as EventEnvelope;
        } catch {
          return;
        }
        // Anything may arrive on a subject (`null`, an array): a throw here would close the NATS connection's reader.
        if (typeof ev !== 'object' || ev === null || ev.source !== bus.source || !ev.type || !ev.data) return;
        const m = /^io\.tresor\.(backup|restore|verify)\.(started|completed|failed)\.v\d+$/.exec(ev.type);
        if (!m) return;
        this.onJobEvent(m[1] as JobKind, m[2] as 'started' | 'completed' | 'failed', ev.data, Date.parse(ev.time ?? '') || Date.now(), started);
      },
    });
    let manager: ReturnType<typeof jetstreamManager> | undefined;
    const poll = async (): Promise<void> => {
      const jsm = await (manager ??= jetstreamManager(bus.nc));
      for (const c of consumers) {
        try {
          const info = await jsm.consumers.info(c.stream, c.durable);
          this.queuePending.set({ stream: c.stream, consumer: c.durable }, info.num_pending + info.num_ack_pending);
        } catch {
          // A consumer that is being recreated reads again on the next poll.
        }
      }
    };
    // Polled rather than read at scrape time: a scrape must not wait on a slow JetStream API.
    const timer = consumers.length > 0 ? setInterval(() => void poll().catch(() => undefined), 5_000) : undefined;
    if (timer) void poll().catch(() => undefined);
    timer?.unref();
    return () => {
      sub.unsubscribe();
      if (timer) clearInterval(timer);
    };
  }

  private onJobEvent(kind: JobKind, phase: 'started' | 'completed' | 'failed', data: Record<string, unknown>, at: number, started: Map<string, number>): void {
    const jobId = typeof data.jobId === 'string' ? data.jobId : '';
    if (phase === 'started') {
      started.set(jobId, at);
      return;
    }
    const begin = started.get(jobId);
    started.delete(jobId);
    const outcome = phase;
    this.jobs.inc({ kind, outcome });
    if (begin !== undefined) this.jobDuration.observe({ kind, outcome }, Math.max(0, (at - begin) / 1000));
    if (phase === 'failed') {
      const code = (data.error as { code?: unknown } | undefined)?.code;
      this.errors.inc({ kind, code: typeof code === 'string' ? code : 'UNKNOWN' });
      return;
    }
    if (kind === 'backup') {
      const bytesIn = Number(data.bytesIn ?? 0);
      const stored = Number(data.bytesStored ?? 0);
      this.bytes.inc({ kind, stage: 'read' }, bytesIn);
      this.bytes.inc({ kind, stage: 'stored' }, stored);
      if (stored > 0) this.compressionRatio.set(bytesIn / stored);
    } else if (kind === 'restore') {
      this.bytes.inc({ kind, stage: 'restored' }, Number(data.bytes ?? 0));
    }
  }
}
