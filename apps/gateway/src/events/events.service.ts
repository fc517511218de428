import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { rolesAllow } from '@tresor/auth';
import type { Identity } from '@tresor/auth';
import type { MongoJobStore } from '@tresor/catalog';
import { NotFoundError, RateLimitedError, UsageError } from '@tresor/errors';
import { tailEvents } from '@tresor/messaging';
import type { Bus, EventTail, TailStart, TailedEvent } from '@tresor/messaging';
import { BUS, JOB_STORE } from '../core/tokens.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { jobIdOf, permissionFor } from './events.policy.js';

/** A `?job=` stream starts this long before the job was created: the NATS server's clock may run behind the gateway's. */
const CLOCK_SLACK_MS = 5_000;
/** Visibility answers a stream remembers; past this it forgets them all (a long stream sees many jobs). */
const MAX_REMEMBERED_JOBS = 1_000;
/** Streams one caller may hold open at one gateway: each costs a consumer on the NATS server (a console tab opens one per job it follows). */
export const MAX_STREAMS_PER_CALLER = 16;

export interface EventStreamRequest {
  readonly job?: string;
  /** The `Last-Event-ID` header of a reconnecting reader: the stream sequence it saw last. */
  readonly lastEventId?: string;
}

/** An open stream of the events one caller may see. */
export interface CallerEventStream extends AsyncIterable<TailedEvent> {
  close(): Promise<void>;
}

/**
 * Live job events for one caller: a tail of TRESOR_EVENTS per stream, relaying only the job
 * events whose job the caller may see (the same tenant rule as GET /v1/jobs/:id) and whose kind
 * their roles may read. Streams still open at shutdown are closed, so the server can stop.
 */
@Injectable()
export class EventsService implements OnModuleDestroy {
  private readonly open = new Set<EventTail>();
  /** Open streams per caller subject. */
  private readonly openBy = new Map<string, number>();

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  /** Opens a stream; NotFound for a `job` the caller may not see, Usage for a malformed Last-Event-ID. */
  async stream(who: Identity, req: EventStreamRequest): Promise<CallerEventStream> {
    const start = await this.startOf(who, req);
    // Counted before the first await that creates the consumer, so concurrent opens cannot all pass the check.
    const held = this.openBy.get(who.subject) ?? 0;
    if (held >= MAX_STREAMS_PER_CALLER) throw new RateLimitedError(`${who.name} already has ${MAX_STREAMS_PER_CALLER} event streams open at this gateway: close one (a console tab) first`);
    this.openBy.set(who.subject, held + 1);
    let closed = false;
    const release = () => {
      if (closed) return;
      closed = true;
      const left = (this.openBy.get(who.subject) ?? 1) - 1;
      if (left > 0) this.openBy.set(who.subject, left);
      else this.openBy.delete(who.subject);
    };
    let tail: EventTail;
    try {
      tail = await tailEvents(this.bus, start);
    } catch (err) {
      release();
      throw err;
    }
    this.open.add(tail);
    const visible = this.visibility(who, req.job);
    const close = async () => {
      release();
      this.open.delete(tail);
      await tail.close();
    };
    return {
      close,
      async *[Symbol.asyncIterator]() {
        for await (const e of tail) if (await visible(e)) yield e;
      },
    };
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.open].map((t) => t.close()));
    this.open.clear();
  }

  private async startOf(who: Identity, req: EventStreamRequest): Promise<TailStart> {
    // A job the caller may not see is not found, whether the reader starts or resumes.
    const job = req.job === undefined ? undefined : await this.jobs.get(req.job);
    if (req.job !== undefined && (!job || !(await this.tenants.jobVisible(who, job)))) throw new NotFoundError(`job ${req.job} not found`);
    if (req.lastEventId !== undefined) {
      const seq = Number(req.lastEventId);
      if (!Number.isSafeInteger(seq) || seq < 0) throw new UsageError(`Last-Event-ID ${JSON.stringify(req.lastEventId.slice(0, 40))} is not an event id of this stream (a stream sequence number)`);
      return { from: 'after', seq };
    }
    // A reader who opens the stream just after starting the job still sees its first events.
    return job ? { from: 'since', time: new Date(Date.parse(job.createdAt) - CLOCK_SLACK_MS) } : { from: 'new' };
  }

  /** A filter of events for the caller; it remembers each job's answer (a job never changes tenant). */
  private visibility(who: Identity, onlyJob: string | undefined): (e: TailedEvent) => Promise<boolean> {
    const known = new Map<string, boolean>();
    return async ({ event }) => {
      const permission = permissionFor(event);
      const jobId = jobIdOf(event);
      if (!permission || !jobId || !rolesAllow(who.roles, permission)) return false;
      if (onlyJob !== undefined && jobId !== onlyJob) return false;
      if (this.tenants.seesAll(who)) return true;
      const remembered = known.get(jobId);
      if (remembered !== undefined) return remembered;
      const job = await this.jobs.get(jobId);
      // No record (yet, or a job of another cluster sharing the stream): not shown, and not remembered.
      if (!job) return false;
      if (known.size >= MAX_REMEMBERED_JOBS) known.clear();
      const allowed = await this.tenants.jobVisible(who, job);
      known.set(jobId, allowed);
      return allowed;
    };
  }
}
