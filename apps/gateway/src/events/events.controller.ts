import type { ServerResponse } from 'node:http';
import { Controller, Get, Headers, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Identity } from '@tresor/auth';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { SSE_HEARTBEAT, sseFrame } from './events.policy.js';
import { EventsService } from './events.service.js';

/** Proxies drop connections idle for 30 to 60 s: a comment every 15 s keeps a quiet stream open. */
const HEARTBEAT_MS = 15_000;
/** How long a reader whose connection dropped waits before reconnecting (with Last-Event-ID). */
const RETRY_MS = 3_000;

/** Live job events as Server-Sent Events (the console's progress bars; `curl -N` works too). */
@Controller('v1/events')
export class EventsController {
  constructor(@Inject(EventsService) private readonly events: EventsService) {}

  /** `text/event-stream` of the backup, verify and restore events of the caller's jobs; `?job=` narrows it to one job, from its start. */
  @Get()
  @RequirePermission('events:read')
  async stream(@CurrentIdentity() who: Identity, @Res() reply: FastifyReply, @Query('job') job?: string, @Headers('last-event-id') lastEventId?: string): Promise<void> {
    // Refusals (unknown job, bad Last-Event-ID) happen here, before the stream starts, as normal JSON errors.
    const stream = await this.events.stream(who, { ...(job !== undefined ? { job } : {}), ...(lastEventId !== undefined ? { lastEventId } : {}) });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: ${RETRY_MS}\n${SSE_HEARTBEAT}`);
    const heartbeat = setInterval(() => res.write(SSE_HEARTBEAT), HEARTBEAT_MS);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      void stream.close();
      if (!res.writableEnded) res.end();
    };
    res.on('close', end);
    try {
      for await (const { seq, event } of stream) {
        if (res.destroyed) break;
        // A slow reader: wait until its socket drained rather than buffering without bound.
        if (!res.write(sseFrame(seq, event))) await drainedOrClosed(res);
      }
    } catch {
      // The tail broke (NATS gone): ending the response makes the reader reconnect with Last-Event-ID.
    } finally {
      end();
    }
  }
}

/** Resolves once the response can take more data, or is gone (removing both listeners either way). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
