import { Worker } from 'node:worker_threads';

/**
 * Requests made while the threads are busy queue up and go together in the next message: one
 * message per batch rather than a promise round trip per system call.
 */
interface Job<R> {
  readonly payload: unknown;
  /** Expected bytes the job moves: bounds what one message carries. */
  readonly weight: number;
  readonly resolve: (result: R | { readonly threadError: Error }) => void;
}

/** Jobs sent to a thread in one message, and their expected bytes: few messages, bounded memory. */
const BATCH_JOBS = 64;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Runs jobs on up to `size` worker threads evaluated from `workerSource` (CommonJS, so it needs no
 * loader whatever runs the main thread), in batches. The worker answers a message `{ id, jobs,
 * shared }` with `{ id, results }` (one result per job, in order). Threads start on first use and
 * never keep the process alive while idle; a thread that dies fails its batch with `threadError`
 * and is replaced on demand.
 */
export class BatchPool<R> {
  private readonly idle: Worker[] = [];
  private readonly queue: Job<R>[] = [];
  private readonly inFlight = new Map<number, { worker: Worker; batch: Job<R>[] }>();
  private started = 0;
  private nextId = 0;
  private scheduled = false;

  constructor(
    private readonly workerSource: string,
    private readonly size: number,
    /**
     * Builds the message's jobs and `shared` part from a batch's payloads (e.g. to send common data
     * once), and what it moves to the thread rather than copies (`transfer`).
     */
    private readonly pack: (payloads: unknown[]) => { jobs: unknown[]; shared?: unknown; transfer?: ArrayBuffer[] } = (jobs) => ({ jobs }),
  ) {}

  /** Queues one job; its result, or `threadError` if the thread running it died. */
  run(payload: unknown, weight: number): Promise<R | { readonly threadError: Error }> {
    return new Promise((resolve) => {
      this.queue.push({ payload, weight, resolve });
      this.schedule();
    });
  }

  /**
   * Dispatches once the work already in motion on this thread has queued what it will: callers
   * queue jobs one per await (a scan, a read-ahead window), so a dispatch in the same microtask
   * pass would send a message per job, and messages cost more than the jobs they carry.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.started < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const batch: Job<R>[] = [];
      let bytes = 0;
      while (this.queue.length > 0 && batch.length < BATCH_JOBS && (batch.length === 0 || bytes < BATCH_BYTES)) {
        const job = this.queue.shift()!;
        bytes += job.weight;
        batch.push(job);
      }
      const id = this.nextId++;
      this.inFlight.set(id, { worker, batch });
      worker.ref();
      const { jobs, shared, transfer } = this.pack(batch.map((job) => job.payload));
      worker.postMessage({ id, jobs, shared }, transfer);
    }
  }

  private spawn(): Worker {
    this.started++;
    const worker = new Worker(this.workerSource, { eval: true });
    worker.unref();
    worker.on('message', (reply: { id: number; results: R[] }) => {
      const job = this.inFlight.get(reply.id)!;
      this.inFlight.delete(reply.id);
      worker.unref();
      this.idle.push(worker);
      job.batch.forEach((request, i) => request.resolve(reply.results[i]!));
      this.schedule();
    });
    let dead = false;
    const fail = (error: Error) => {
      if (dead) return;
      dead = true;
      this.started--;
      const at = this.idle.indexOf(worker);
      if (at !== -1) this.idle.splice(at, 1);
      for (const [id, job] of this.inFlight) {
        if (job.worker !== worker) continue;
        this.inFlight.delete(id);
        for (const request of job.batch) request.resolve({ threadError: error });
      }
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker thread exited (code ${code})`)));
    return worker;
  }
}
