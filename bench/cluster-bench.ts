/**
 * The core of the cluster benchmark (bench/cluster.ts): one whole cluster on the test servers with
 * E backup-engine replicas, N backups submitted through the gateway API with C in flight, and what
 * each job and each service process cost.
 */
import { loadavg } from 'node:os';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { TestCluster } from '../test/cluster/cluster.js';
import type { RunningService } from '../test/cluster/cluster.js';
import { sampleProcess } from './proc.js';
import type { ProcSample } from './proc.js';

export interface ClusterBenchOptions {
  /** Directories to back up; job i backs up a source no other job in flight is backing up. */
  readonly sources: readonly string[];
  readonly jobs: number;
  readonly concurrency: number;
  readonly engines: number;
  /** How often each in-flight job's status is polled. */
  readonly pollMs?: number;
  /** A job not finished this long after it was submitted counts as failed. */
  readonly jobTimeoutMs?: number;
}

/** One job as the benchmark saw it. */
export interface JobSample {
  readonly id: string;
  readonly source: string;
  readonly state: 'completed' | 'failed' | 'timed out';
  readonly worker: string | null;
  /** Submit (client clock, before the POST) to the job's `completed`/`failed` timestamp (same host's clock). */
  readonly latencyMs: number;
  /** Submit to the `running` timestamp: time spent waiting for a free engine. */
  readonly queuedMs: number | null;
  readonly error?: string;
}

/** One service process: CPU it used while the jobs ran, and its peak RSS since it started. */
export interface ServiceSample {
  readonly service: string;
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
}

export interface ClusterBenchResult {
  readonly engines: number;
  readonly jobs: number;
  readonly concurrency: number;
  readonly completed: number;
  readonly failures: number;
  /** First submit to last outcome. */
  readonly wallSeconds: number;
  readonly jobsPerMinute: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
  readonly queuedMsP50: number | null;
  /** GET /v1/jobs/{id} requests the benchmark made: the gateway's CPU includes answering them. */
  readonly statusPolls: number;
  /** Completed jobs per engine instance: how the queue spread the work. */
  readonly perWorker: Record<string, number>;
  readonly services: readonly ServiceSample[];
  /** 1-minute load average when the jobs started and ended (the machine may be shared). */
  readonly load: { readonly start: number; readonly end: number };
  readonly samples: readonly JobSample[];
}

/** The nearest-rank percentile of some numbers (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Starts every service, with `engines` backup-engine replicas named engine-1..E. */
async function startCluster(cluster: TestCluster, engines: number): Promise<string> {
  await cluster.start('storage-gateway');
  await Promise.all([
    ...Array.from({ length: engines }, (_, i) => cluster.start('backup-engine', { TRESOR_INSTANCE: `engine-${i + 1}` })),
    cluster.start('recovery'),
    cluster.start('audit'),
    cluster.start('monitoring'),
    cluster.start('scheduler'),
  ]);
  return (await cluster.start('gateway')).http;
}

/** Labels services uniquely; engines always by number (`backup-engine#1`) so runs with 1 and 2 line up. */
function labels(services: readonly RunningService[]): string[] {
  const seen = new Map<string, number>();
  return services.map((s) => {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    return s.name === 'backup-engine' ? `${s.name}#${n}` : s.name;
  });
}

async function sampleAll(services: readonly RunningService[]): Promise<ProcSample[]> {
  return Promise.all(services.map((s) => sampleProcess(s.child.pid!)));
}

const time = (iso: string | undefined): number | null => (iso ? Date.parse(iso) : null);

/** Submits one backup and polls it to its outcome. */
async function runJob(client: TresorClient, source: string, options: Required<Pick<ClusterBenchOptions, 'pollMs' | 'jobTimeoutMs'>>, polls: { count: number }): Promise<JobSample> {
  const submitted = Date.now();
  let job: JobRecord = await client.backups.create({ source: { kind: 'filesystem', location: source } });
  while (job.state !== 'completed' && job.state !== 'failed') {
    if (Date.now() - submitted > options.jobTimeoutMs) {
      return { id: job.id, source, state: 'timed out', worker: job.worker, latencyMs: Date.now() - submitted, queuedMs: null, error: `still ${job.state} after ${options.jobTimeoutMs} ms` };
    }
    await new Promise((r) => setTimeout(r, options.pollMs));
    job = await client.jobs.get(job.id);
    polls.count += 1;
  }
  const ended = time(job.timestamps[job.state]) ?? Date.now();
  const running = time(job.timestamps.running);
  return {
    id: job.id,
    source,
    state: job.state,
    worker: job.worker,
    latencyMs: ended - submitted,
    queuedMs: running === null ? null : running - submitted,
    ...(job.error ? { error: `${job.error.code}: ${job.error.message}` } : {}),
  };
}

/** Keeps `concurrency` jobs in flight, each on a source no other in-flight job holds, until `jobs` were submitted. */
async function runJobs(client: TresorClient, options: ClusterBenchOptions, polls: { count: number }): Promise<JobSample[]> {
  const free = [...options.sources];
  const samples: JobSample[] = [];
  let submitted = 0;
  const timing = { pollMs: options.pollMs ?? 250, jobTimeoutMs: options.jobTimeoutMs ?? 600_000 };
  const worker = async (): Promise<void> => {
    while (submitted < options.jobs) {
      submitted += 1;
      const source = free.shift()!;
      try {
        samples.push(await runJob(client, source, timing, polls));
      } catch (err) {
        samples.push({ id: '-', source, state: 'failed', worker: null, latencyMs: 0, queuedMs: null, error: (err as Error).message });
      } finally {
        free.push(source);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return samples;
}

/** Runs the benchmark once for one engine count on a fresh cluster; stops the cluster afterwards. */
export async function runClusterBench(options: ClusterBenchOptions): Promise<ClusterBenchResult> {
  if (options.concurrency > options.sources.length) {
    // Backups of one source wait for its lock, so extra concurrency would only measure that wait.
    throw new Error(`--concurrency ${options.concurrency} exceeds --sources ${options.sources.length}: each job in flight needs a source of its own`);
  }
  const cluster = await TestCluster.create();
  try {
    const url = await startCluster(cluster, options.engines);
    const client = new TresorClient({ url, token: cluster.token });
    const before = await sampleAll(cluster.services);
    const load = loadavg()[0]!;
    const started = Date.now();
    const polls = { count: 0 };
    const samples = await runJobs(client, options, polls);
    const wallSeconds = (Date.now() - started) / 1000;
    const after = await sampleAll(cluster.services);
    const names = labels(cluster.services);
    const completed = samples.filter((s) => s.state === 'completed');
    const latencies = completed.map((s) => s.latencyMs);
    const queued = completed.flatMap((s) => (s.queuedMs === null ? [] : [s.queuedMs]));
    const perWorker: Record<string, number> = {};
    for (const s of completed) perWorker[s.worker ?? 'unknown'] = (perWorker[s.worker ?? 'unknown'] ?? 0) + 1;
    return {
      engines: options.engines,
      jobs: options.jobs,
      concurrency: options.concurrency,
      completed: completed.length,
      failures: samples.length - completed.length,
      wallSeconds,
      jobsPerMinute: (completed.length / wallSeconds) * 60,
      latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
      queuedMsP50: queued.length ? percentile(queued, 50) : null,
      statusPolls: polls.count,
      perWorker,
      services: names
        .map((service, i) => ({ service, cpuSeconds: after[i]!.cpuSeconds - before[i]!.cpuSeconds, peakRssMiB: after[i]!.peakRssMiB }))
        .sort((a, b) => a.service.localeCompare(b.service)),
      load: { start: load, end: loadavg()[0]! },
      samples,
    };
  } finally {
    await cluster.stop();
  }
}
