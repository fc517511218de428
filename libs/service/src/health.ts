import 'reflect-metadata';
import { Controller, Get, HttpException, Inject } from '@nestjs/common';

/** Token of the function that says whether the service can do its work now. */
export const READINESS = Symbol('READINESS');
/** `detail`: facts that do not decide readiness (e.g. whether this replica leads its role). */
export type Readiness = () => { ready: boolean; checks: Record<string, boolean>; detail?: Record<string, unknown> };

@Controller('health')
export class HealthController {
  constructor(@Inject(READINESS) private readonly readiness: Readiness) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(): { status: 'ready'; checks: Record<string, boolean>; detail?: Record<string, unknown> } {
    const r = this.readiness();
    const detail = r.detail ? { detail: r.detail } : {};
    if (!r.ready) throw new HttpException({ status: 'not-ready', checks: r.checks, ...detail }, 503);
    return { status: 'ready', checks: r.checks, ...detail };
  }
}
