import { Readable } from 'node:stream';
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { AuditOutcome } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { auditCsvHeader, auditEntriesPage, auditEntryCsv, searchAuditEntries, searchAuditPage, verifyAudit } from '@tresor/service';
import type { AuditFilter } from '@tresor/service';
import { RequirePermission } from '../auth/access.decorator.js';
import { isoTime, oneOf, positiveInt } from '../core/query.js';
import { BUS } from '../core/tokens.js';

const MAX_PAGE = 1000;
const FORMATS = ['json', 'jsonl', 'csv'] as const;
const OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];

interface Reply {
  header(name: string, value: string): Reply;
  send(body: unknown): void;
}

type EntriesQuery = Partial<Record<'from' | 'limit' | 'format' | 'actor' | 'action' | 'target' | 'outcome' | 'since' | 'until', string>>;

/** The audit log, read through the audit service: chain verification, search and export. */
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(BUS) private readonly bus: Bus) {}

  /** Recomputes the whole chain; a broken chain is a 200 whose report says `ok: false` and names the entry. */
  @Get('verify')
  @RequirePermission('audit:read')
  async verify() {
    return { report: await verifyAudit(this.bus) };
  }

  /**
   * Entries in chain order from seq `from` (default 1) that match the filters: as JSON at most
   * `limit` (default 100, at most 1000) with `next` to continue, or with format=jsonl|csv every
   * match streamed as a download.
   */
  @Get('entries')
  @RequirePermission('audit:read')
  async entries(@Res() res: Reply, @Query() q: EntriesQuery) {
    const from = positiveInt('from', q.from, 1);
    const limit = Math.min(MAX_PAGE, positiveInt('limit', q.limit, 100));
    const format = oneOf('format', q.format, FORMATS) ?? 'json';
    const filter = auditFilter(q);
    if (format === 'json') {
      res.header('Content-Type', 'application/json; charset=utf-8').send(await searchAuditPage(this.bus, filter, from, limit));
      return;
    }
    // Asked once before the headers go out, so an audit service that does not answer is a proper error, not an empty file.
    await auditEntriesPage(this.bus, from, 1);
    const matches = searchAuditEntries(this.bus, filter, from);
    const body = format === 'csv' ? csvLines(matches) : jsonLines(matches);
    const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
    res
      .header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="tresor-audit-${stamp}.${format}"`)
      .send(Readable.from(body));
  }
}

/** The search filters of the query; a bad time or outcome is a 400 naming the parameter. */
function auditFilter(q: EntriesQuery): AuditFilter {
  const text = (v: string | undefined) => (v === undefined || v === '' ? undefined : v.slice(0, 256));
  const since = isoTime('since', q.since);
  const until = isoTime('until', q.until);
  const outcome = oneOf('outcome', q.outcome, OUTCOMES);
  const actor = text(q.actor);
  const action = text(q.action);
  const target = text(q.target);
  return { ...(actor ? { actor } : {}), ...(action ? { action } : {}), ...(target ? { target } : {}), ...(outcome ? { outcome } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

async function* jsonLines(entries: AsyncIterable<unknown>): AsyncGenerator<string> {
  for await (const e of entries) yield `${JSON.stringify(e)}\n`;
}

async function* csvLines(entries: AsyncIterable<Parameters<typeof auditEntryCsv>[0]>): AsyncGenerator<string> {
  yield auditCsvHeader();
  for await (const e of entries) yield auditEntryCsv(e);
}
