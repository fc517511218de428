import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { renderComplianceHtml } from '@tresor/assurance';
import type { Identity } from '@tresor/auth';
import { COMMANDS } from '@tresor/contracts';
import type { ComplianceReport } from '@tresor/contracts';
import type { Bus } from '@tresor/messaging';
import { CurrentIdentity, RequirePermission } from '../auth/access.decorator.js';
import { BUS } from '../core/tokens.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { oneOf } from '../core/query.js';

/** Evaluating every control reads the catalog, the storage and the whole audit chain. */
const COMPLIANCE_TIMEOUT_MS = 5 * 60_000;

interface Reply {
  header(name: string, value: string): Reply;
  send(body: unknown): void;
}

/**
 * The HTML report shares the console's origin: opened there, it runs no script at all (sandbox, no
 * script-src), so no text of the report could reach the session in that origin's sessionStorage.
 */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

/** The compliance report of the cluster, evaluated by the monitoring service (libs/assurance, as standalone). */
@Controller('v1/compliance')
export class ComplianceController {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(TenantsService) private readonly tenants: TenantsService,
  ) {}

  /** JSON `{ report }`, or with `format=html` the report as one self-contained page. */
  @Get('report')
  @RequirePermission('compliance:read')
  async report(@CurrentIdentity() who: Identity, @Res() res: Reply, @Query('format') format?: string) {
    const f = oneOf('format', format, ['json', 'html'] as const) ?? 'json';
    const reply = await this.bus.request(COMMANDS.monitoringCompliance, { v: 1 }, { timeoutMs: COMPLIANCE_TIMEOUT_MS });
    const report = await this.visible(who, reply.report);
    if (f === 'html') res.header('Content-Type', 'text/html; charset=utf-8').header('Content-Security-Policy', REPORT_CSP).send(renderComplianceHtml(report));
    else res.header('Content-Type', 'application/json; charset=utf-8').send({ report });
  }

  /** A caller limited to some tenants sees their sources' findings only (the repository's controls stay). */
  private async visible(who: Identity, report: ComplianceReport): Promise<ComplianceReport> {
    if (this.tenants.seesAll(who)) return report;
    const sources = await this.tenants.visibleBySource(who, report.sources, (s) => s.source);
    const totals = { pass: 0, fail: 0, 'not-evaluated': 0, 'not-applicable': 0 };
    for (const f of [...report.repository, ...sources.flatMap((s) => s.findings)]) totals[f.status]++;
    return { ...report, sources, totals };
  }
}
