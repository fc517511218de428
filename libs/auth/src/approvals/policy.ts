import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '@tresor/errors';

const tenantName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant name (a-z, 0-9, _ and -)');
const approvals = z.number().int().min(1).max(10);
/** Up to 30 days; seconds so that tests can configure a short window. */
const expirySeconds = z.number().int().min(1).max(30 * 86400);

/**
 * Dual control for key material (PCI DSS 3.6.1.2): which sources are sensitive, and per tenant
 * how many custodians must approve a restore of one, within what window.
 */
export const dualControlConfigSchema = z.strictObject({
  /** A source not listed in `sources` is sensitive unless this is false. */
  sensitiveByDefault: z.boolean().default(true),
  /** Approvals by distinct custodians (never the requester) a sensitive restore needs. */
  approvals: approvals.default(2),
  /** How long a request waits for its approvals before it expires. */
  expirySeconds: expirySeconds.default(86400),
  /** Per-tenant overrides of approvals and expirySeconds. */
  tenants: z.record(tenantName, z.strictObject({ approvals: approvals.optional(), expirySeconds: expirySeconds.optional() })).default({}),
  /** Per-source (by location) sensitivity, e.g. `{"/srv/public-certs": {"sensitive": false}}`. */
  sources: z.record(z.string().min(1), z.strictObject({ sensitive: z.boolean() })).default({}),
});
export type DualControlConfig = z.infer<typeof dualControlConfigSchema>;

/** What dual control asks of a restore of one source. */
export interface DualControlPolicy {
  readonly sensitive: boolean;
  readonly approvals: number;
  readonly expirySeconds: number;
}

/** The policy for a source location in a tenant. */
export function policyFor(config: DualControlConfig, tenant: string, location: string): DualControlPolicy {
  const t = config.tenants[tenant] ?? {};
  return {
    sensitive: config.sources[location]?.sensitive ?? config.sensitiveByDefault,
    approvals: t.approvals ?? config.approvals,
    expirySeconds: t.expirySeconds ?? config.expirySeconds,
  };
}

/** Validates a dual-control configuration; the first issue becomes a UsageError naming the field. */
export function parseDualControlConfig(raw: unknown): DualControlConfig {
  const r = dualControlConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`dual-control configuration: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

/** Reads TRESOR_DUAL_CONTROL (JSON) or TRESOR_DUAL_CONTROL_FILE (a JSON file); defaults when neither is set. */
export function dualControlFromEnv(env: NodeJS.ProcessEnv = process.env): DualControlConfig {
  const name = env.TRESOR_DUAL_CONTROL ? 'TRESOR_DUAL_CONTROL' : 'TRESOR_DUAL_CONTROL_FILE';
  let text: string | undefined;
  try {
    text = env.TRESOR_DUAL_CONTROL || (env.TRESOR_DUAL_CONTROL_FILE ? readFileSync(env.TRESOR_DUAL_CONTROL_FILE, 'utf8') : undefined);
  } catch (err) {
    throw new UsageError(`configuration: TRESOR_DUAL_CONTROL_FILE: cannot read ${env.TRESOR_DUAL_CONTROL_FILE}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let raw: unknown = {};
  try {
    raw = text ? JSON.parse(text) : {};
  } catch {
    throw new UsageError(`configuration: ${name}: not JSON (want {"approvals": 2, "expirySeconds": 86400, "tenants": {...}, "sources": {...}})`);
  }
  return parseDualControlConfig(raw);
}
