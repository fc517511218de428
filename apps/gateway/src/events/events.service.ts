import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { rolesAllow } from '@tresor/auth';
import type { Identity } from '@tresor/auth';
import type { MongoJobStore } from '@tresor/catalog';
import { NotFoundError, UsageError } from '@tresor/errors';
import { tailEvents } from '@tresor/messaging';
import type { Bus, EventTail, TailStart, TailedEvent } from '@tresor/messaging';
import { BUS, JOB_STORE } from '../core/tokens.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { jobIdOf, permissionFor } from './events.policy.js';

/** A `?job=` stream starts this long before the job was created: the NATS server's clock may run behind the gateway's. */
const CLOCK_SLACK_MS = 5_000;
/** Visibility answers a stream remembers; past this it forgets them all (a long stream sees many jobs). */
const MAX_REMEMBERED_JOBS = 1_000;

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

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(JOB_STORE) private readonly jobs: MongoJobStore,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  /** Opens a stream; NotFound for a `job` the caller may not see, Usage for a malformed Last-Event-ID. */
  async stream(who: Identity, req: EventStreamRequest): Promise<CallerEventStream> {
    const start = await this.startOf(who, req);
    const tail = await tailEvents(this.bus, start);
    this.open.add(tail);
    const visible = this.visibility(who, req.job);
    const close = async () => {
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
    if (req.lastEventId !== undefined) {
      const seq = Number(req.lastEventId);
      if (!Number.isSafeInteger(seq) || seq < 0) throw new UsageError(`Last-Event-ID ${JSON.stringify(req.lastEventId.slice(0, 40))} is not an event id of this stream (a stream sequence number)`);
      return { from: 'after', seq };
    }
    if (req.job === undefined) return { from: 'new' };
    const job = await this.jobs.get(req.job);
    if (!job || !(await this.tenants.jobVisible(who, job))) throw new NotFoundError(`job ${req.job} not found`);
    // A reader who opens the stream just after starting the job still sees its first events.
    return { from: 'since', time: new Date(Date.parse(job.createdAt) - CLOCK_SLACK_MS) };
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
