import { canonicalJson, keyFingerprint, sign, verifySignature } from '@tresor/crypto';
import { ConflictError, ForbiddenError, IntegrityError, NotFoundError, UsageError } from '@tresor/errors';
import { z } from 'zod';
import { readObject } from '../io.js';
import type { Repository } from '../repository.js';
import { slotSchema } from './kek-versions.js';
import type { Slot } from './kek-versions.js';
import { signObject, verifySignedObject } from './signed-object.js';

/**
 * Tenants: a named group of sources whose backups are wrapped only for the tenant's own key slots
 * (never for the repository's KEK versions or the recovery key), so that destroying those slots'
 * keys crypto-shreds exactly that tenant (ADR 23).
 */
export const TENANT_PREFIX = 'tenants/';
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const tenantKey = (name: string): string => `${TENANT_PREFIX}${name}.json`;
export const tenantShreddedKey = (name: string): string => `${TENANT_PREFIX}${name}.shredded.json`;

/** Slot types whose key Tresor itself can destroy: the only ones a tenant may use. */
export const SHREDDABLE_SLOT_TYPES = ['pkcs11-aes-gcm', 'aws-kms', 'gcp-kms'] as const;

const custodianSchema = z.strictObject({ name: z.string().min(1).max(64), keyId: z.string(), publicKeyPem: z.string() });
export type TenantCustodian = z.infer<typeof custodianSchema>;

const tenantSchema = z.strictObject({
  formatVersion: z.literal(1),
  repositoryId: z.string(),
  name: z.string().regex(NAME),
  createdAt: z.string(),
  sources: z.array(z.strictObject({ kind: z.string(), location: z.string() })).min(1).max(1000),
  slots: z.array(slotSchema).min(1).max(8),
  /** Ed25519 public keys of the people whose approvals a shred needs (two distinct ones). */
  custodians: z.array(custodianSchema).min(2).max(32),
});
export type TenantBody = z.infer<typeof tenantSchema>;

const shreddedSchema = z.strictObject({
  formatVersion: z.literal(1),
  repositoryId: z.string(),
  name: z.string(),
  state: z.literal('shredded'),
  at: z.string(),
  approvedBy: z.array(z.string()),
  destroyedKeys: z.array(z.string()),
  backups: z.array(z.string()),
});
export type TenantShredRecord = z.infer<typeof shreddedSchema>;

export interface Tenant extends TenantBody {
  readonly shredded?: TenantShredRecord;
}

/** Every tenant of the repository (signature-checked), by name. */
export async function listTenants(repo: Repository): Promise<Tenant[]> {
  const bodies = new Map<string, TenantBody>();
  const shredded = new Map<string, TenantShredRecord>();
  for await (const info of repo.store.list(TENANT_PREFIX)) {
    const m = /^tenants\/([a-z0-9][a-z0-9._-]*?)(\.shredded)?\.json$/.exec(info.key);
    if (!m) continue;
    const body = verifySignedObject(repo, info.key, await readObject(repo.store, info.key));
    const parsed = (m[2] ? shreddedSchema : tenantSchema).safeParse(body);
    if (!parsed.success || parsed.data.name !== m[1] || parsed.data.repositoryId !== repo.descriptor.repositoryId)
      throw new IntegrityError(`${info.key} is not a valid tenant record of this repository`);
    if (m[2]) shredded.set(m[1]!, parsed.data as TenantShredRecord);
    else bodies.set(m[1]!, parsed.data as TenantBody);
  }
  return [...bodies.values()].sort((a, b) => a.name.localeCompare(b.name)).map((t) => ({ ...t, ...(shredded.has(t.name) ? { shredded: shredded.get(t.name)! } : {}) }));
}

/** The tenant a source belongs to, if any. */
export function tenantOfSource(tenants: readonly Tenant[], kind: string, location: string): Tenant | undefined {
  return tenants.find((t) => t.sources.some((s) => s.kind === kind && s.location === location));
}

/**
 * Records a tenant. Its slots must be keys Tresor can destroy (HSM, KMS): a passphrase, a
 * private-key file or the recovery key cannot be shredded by software. A source belongs to at most
 * one tenant; tenants are never redefined (a new name is a new tenant).
 */
export async function defineTenant(
  repo: Repository,
  spec: { name: string; sources: readonly { kind: string; location: string }[]; slots: readonly Slot[]; custodians: readonly { name: string; publicKeyPem: string }[] },
): Promise<TenantBody> {
  if (!NAME.test(spec.name)) throw new UsageError(`tenant name '${spec.name}' must be 1-63 characters of a-z, 0-9, '.', '_', '-'`);
  for (const slot of spec.slots)
    if (!(SHREDDABLE_SLOT_TYPES as readonly string[]).includes(slot.type))
      throw new UsageError(`a tenant's key slots must be keys Tresor can destroy (PKCS#11, AWS KMS or Cloud KMS), not ${slot.type}: otherwise its data could not be crypto-shredded`);
  if (spec.slots.length === 0) throw new UsageError('a tenant needs at least one key slot (--pkcs11-…, --aws-kms-key or --gcp-kms-key)');
  const custodians: TenantCustodian[] = spec.custodians.map((c) => {
    let keyId: string;
    try {
      keyId = keyFingerprint(c.publicKeyPem);
    } catch (err) {
      throw new UsageError(`custodian ${c.name}: not an Ed25519 public key in PEM`, { cause: err });
    }
    return { name: c.name, keyId, publicKeyPem: c.publicKeyPem };
  });
  if (new Set(custodians.map((c) => c.name)).size < 2 || new Set(custodians.map((c) => c.keyId)).size < custodians.length)
    throw new UsageError('a tenant needs at least two custodians with distinct names and distinct keys (dual control of `tenant shred`)');
  const tenants = await listTenants(repo);
  if (tenants.some((t) => t.name === spec.name)) throw new ConflictError(`tenant ${spec.name} already exists`);
  for (const s of spec.sources) {
    const owner = tenantOfSource(tenants, s.kind, s.location);
    if (owner) throw new ConflictError(`source ${s.location} already belongs to tenant ${owner.name}`);
  }
  const body: TenantBody = {
    formatVersion: 1,
    repositoryId: repo.descriptor.repositoryId,
    name: spec.name,
    createdAt: new Date().toISOString(),
    sources: spec.sources.map((s) => ({ kind: s.kind, location: s.location })),
    slots: [...spec.slots],
    custodians,
  };
  await repo.store.put(tenantKey(spec.name), await signObject(repo, body));
  return body;
}

/** Records a completed shred (a new object; the tenant record itself is never rewritten). */
export async function writeTenantShredded(repo: Repository, record: Omit<TenantShredRecord, 'formatVersion' | 'repositoryId' | 'state'>): Promise<void> {
  const body: TenantShredRecord = { formatVersion: 1, repositoryId: repo.descriptor.repositoryId, state: 'shredded', ...record };
  await repo.store.put(tenantShreddedKey(record.name), await signObject(repo, body));
}

// ---- dual control: custodian approvals ----

const approvalSchema = z.strictObject({
  formatVersion: z.literal(1),
  action: z.literal('tenant.shred'),
  repositoryId: z.string(),
  tenant: z.string(),
  custodian: z.string(),
  approvedAt: z.string(),
  expiresAt: z.string(),
  signature: z.strictObject({ alg: z.literal('ed25519'), keyId: z.string(), value: z.string() }),
});

/** Default validity of an approval: long enough to gather two, short enough not to linger. */
export const SHRED_APPROVAL_HOURS = 24;

/**
 * A custodian's signed approval to shred one tenant of one repository, valid for `hours`. Made
 * with the custodian's own Ed25519 private key, on their own machine: the operator who runs the
 * shred cannot produce it.
 */
export function createShredApproval(input: { repositoryId: string; tenant: string; custodian: string; privateKeyPem: string; publicKeyPem: string; hours?: number; now?: Date }): Buffer {
  const now = input.now ?? new Date();
  const body = {
    formatVersion: 1 as const,
    action: 'tenant.shred' as const,
    repositoryId: input.repositoryId,
    tenant: input.tenant,
    custodian: input.custodian,
    approvedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (input.hours ?? SHRED_APPROVAL_HOURS) * 3_600_000).toISOString(),
  };
  const value = sign(input.privateKeyPem, canonicalJson(body));
  return Buffer.from(`${canonicalJson({ ...body, signature: { alg: 'ed25519', keyId: keyFingerprint(input.publicKeyPem), value } })}\n`);
}

/**
 * Checks approvals against the tenant's registered custodians: each must be signed by the named
 * custodian's key, for this repository and tenant, and unexpired; two distinct custodians are
 * needed. Returns their names; ForbiddenError saying what is missing otherwise.
 */
export function verifyShredApprovals(tenant: TenantBody, approvals: readonly { name: string; bytes: Buffer }[], now: Date = new Date()): string[] {
  const approvedBy = new Set<string>();
  for (const approval of approvals) {
    let parsed;
    try {
      parsed = approvalSchema.parse(JSON.parse(approval.bytes.toString('utf8')));
    } catch (err) {
      throw new UsageError(`${approval.name} is not a shred approval (make one with \`tresor tenant approve-shred\`)`, { cause: err });
    }
    const { signature, ...body } = parsed;
    const custodian = tenant.custodians.find((c) => c.name === body.custodian);
    if (!custodian) throw new ForbiddenError(`${approval.name}: ${body.custodian} is not a custodian of tenant ${tenant.name}`);
    if (signature.keyId !== custodian.keyId || !verifySignature(custodian.publicKeyPem, canonicalJson(body), signature.value))
      throw new ForbiddenError(`${approval.name}: not signed by the registered key of custodian ${custodian.name}`);
    if (body.repositoryId !== tenant.repositoryId || body.tenant !== tenant.name)
      throw new ForbiddenError(`${approval.name} approves shredding tenant ${body.tenant} of repository ${body.repositoryId}, not ${tenant.name} of this one`);
    if (Date.parse(body.expiresAt) <= now.getTime()) throw new ForbiddenError(`${approval.name}: the approval of ${custodian.name} expired at ${body.expiresAt}`);
    approvedBy.add(custodian.name);
  }
  if (approvedBy.size < 2)
    throw new ForbiddenError(
      `shredding tenant ${tenant.name} needs the approvals of two distinct custodians (${tenant.custodians.map((c) => c.name).join(', ')}); got ${approvedBy.size}${approvedBy.size ? `: ${[...approvedBy].join(', ')}` : ''}`,
    );
  return [...approvedBy];
}

/** The tenant by name, NotFoundError otherwise. */
export async function getTenant(repo: Repository, name: string): Promise<Tenant> {
  const tenant = (await listTenants(repo)).find((t) => t.name === name);
  if (!tenant) throw new NotFoundError(`there is no tenant ${name} in ${repo.store.location}: see \`tresor tenant list\``);
  return tenant;
}
