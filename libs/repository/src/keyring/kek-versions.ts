import { z } from 'zod';
import { wrappedKeySchema } from '@tresor/crypto';
import { IntegrityError, NotFoundError } from '@tresor/errors';
import { readObject } from '../io.js';
import type { Repository } from '../repository.js';
import { signObject, verifySignedObject } from './signed-object.js';

export const KEK_PREFIX = 'kek/';
export const kekVersionKey = (version: number): string => `${KEK_PREFIX}${String(version).padStart(8, '0')}.json`;
export const kekStateKey = (version: number, state: KekState): string =>
  `${KEK_PREFIX}${String(version).padStart(8, '0')}.${state}.json`;

/** One provider that can open the data keys of a KEK version (a key slot). No secrets in here. */
export const slotSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('passphrase'), kekId: z.string(), check: wrappedKeySchema }),
  z.strictObject({ type: z.literal('rsa-oaep-sha256'), kekId: z.string(), publicKeyPem: z.string() }),
  z.strictObject({
    type: z.literal('x25519'),
    kekId: z.string(),
    publicKeyPem: z.string(),
    /** Present on the recovery key: who holds its shares, and a SHA-256 of each share to spot a corrupted one. */
    recovery: z
      .strictObject({
        threshold: z.number().int().min(2).max(255),
        shares: z.array(z.strictObject({ custodian: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(2).max(255),
      })
      .optional(),
  }),
  z.strictObject({
    type: z.literal('pkcs11-aes-gcm'),
    kekId: z.string(),
    module: z.string(),
    tokenLabel: z.string(),
    keyLabel: z.string(),
  }),
  z.strictObject({
    type: z.literal('aws-kms'),
    kekId: z.string(),
    keyId: z.string(),
    region: z.string(),
    endpoint: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('azure-key-vault'), kekId: z.string(), keyUrl: z.string() }),
  z.strictObject({ type: z.literal('gcp-kms'), kekId: z.string(), keyName: z.string() }),
]);
export type Slot = z.infer<typeof slotSchema>;

const kekVersionSchema = z.strictObject({
  formatVersion: z.literal(1),
  repositoryId: z.string(),
  version: z.number().int().positive(),
  createdAt: z.string(),
  /** Days after createdAt when this version should be rotated (NIST SP 800-57 cryptoperiod). */
  cryptoperiodDays: z.number().int().positive().optional(),
  slots: z.array(slotSchema).min(1).max(32),
});
export type KekVersionBody = z.infer<typeof kekVersionSchema>;

export type KekState = 'disabled' | 'destroyed';

export interface KekVersion extends KekVersionBody {
  readonly state: 'active' | KekState;
}

/** Every KEK version of the repository, oldest first. A legacy repository.json `kek` is version 1. */
export async function listKekVersions(repo: Repository): Promise<KekVersion[]> {
  const bodies = new Map<number, KekVersionBody>();
  const states = new Map<number, KekState>();
  for await (const info of repo.store.list(KEK_PREFIX)) {
    const m = /^kek\/(\d{8})(?:\.(disabled|destroyed))?\.json$/.exec(info.key);
    if (!m) continue;
    const version = Number(m[1]);
    const body = verifySignedObject(repo, info.key, await readObject(repo.store, info.key));
    if (m[2]) {
      if (body.repositoryId !== repo.descriptor.repositoryId || body.version !== version || body.state !== m[2])
        throw new IntegrityError(`${info.key} does not describe version ${version} of this repository`);
      const state = m[2] as KekState;
      if (states.get(version) !== 'destroyed') states.set(version, state);
      continue;
    }
    const parsed = kekVersionSchema.safeParse(body);
    if (!parsed.success || parsed.data.version !== version || parsed.data.repositoryId !== repo.descriptor.repositoryId)
      throw new IntegrityError(`${info.key} is not a valid KEK version ${version} of this repository`);
    bodies.set(version, parsed.data);
  }
  if (!bodies.has(1)) {
    const legacy = legacyVersion(repo);
    if (legacy) bodies.set(1, legacy);
  }
  return [...bodies.values()]
    .sort((a, b) => a.version - b.version)
    .map((v) => ({ ...v, state: states.get(v.version) ?? 'active' }));
}

/** The version new backups are wrapped for: the newest that is neither disabled nor destroyed. */
export async function currentKekVersion(repo: Repository): Promise<KekVersion> {
  const versions = (await listKekVersions(repo)).filter((v) => v.state === 'active');
  const current = versions.at(-1);
  if (!current) throw new NotFoundError(`repository in ${repo.store.location} has no active key-encryption key version: run \`tresor keys rotate\``);
  return current;
}

/** Stores a new KEK version (never overwrites one). */
export async function writeKekVersion(repo: Repository, body: KekVersionBody): Promise<void> {
  await repo.store.put(kekVersionKey(body.version), await signObject(repo, body));
}

/** Records that a version is disabled (no new wraps) or destroyed (its secrets gone). */
export async function writeKekState(repo: Repository, version: number, state: KekState): Promise<void> {
  const body = { formatVersion: 1, repositoryId: repo.descriptor.repositoryId, version, state, at: new Date().toISOString() };
  await repo.store.put(kekStateKey(version, state), await signObject(repo, body));
}

function legacyVersion(repo: Repository): KekVersionBody | undefined {
  const kek = repo.descriptor.kek;
  const base = { formatVersion: 1 as const, repositoryId: repo.descriptor.repositoryId, version: 1, createdAt: repo.descriptor.createdAt };
  if (kek.type === 'passphrase') return { ...base, slots: [{ type: 'passphrase', kekId: kek.check.kekId, check: kek.check }] };
  if (kek.type === 'rsa-oaep-sha256') return { ...base, slots: [{ type: 'rsa-oaep-sha256', kekId: kek.kekId, publicKeyPem: kek.publicKeyPem }] };
  return undefined;
}
