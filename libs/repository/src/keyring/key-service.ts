import { ArchiveReader } from '@tresor/archive';
import { AwsKmsKek, GcpKmsKek, generateDataKey, Pkcs11Kek } from '@tresor/crypto';
import type { KeyUnwrapper, WrappedKey } from '@tresor/crypto';
import { ConflictError, IntegrityError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { randomAccess } from '@tresor/storage';
import { archiveKey } from '../layout.js';
import type { Repository } from '../repository.js';
import { DEFAULT_CRYPTOPERIOD_DAYS } from './cryptoperiod.js';
import { currentKekVersion, listKekVersions, writeKekState, writeKekVersion } from './kek-versions.js';
import type { KekVersion, Slot } from './kek-versions.js';
import { keyringKey, readKeyrings, writeKeyring } from './keyring.js';
import { ProviderCache } from './providers.js';
import { defineTenant, getTenant, listTenants, tenantOfSource, verifyShredApprovals, writeTenantShredded } from './tenants.js';
import type { Tenant, TenantBody } from './tenants.js';

const services = new WeakMap<Repository, KeyService>();

export interface WrappedDataKey {
  /** The KEK version wrapped for; 0 for a tenant's backup (wrapped for the tenant's slots). */
  readonly kekVersion: number;
  readonly tenant?: string;
  readonly keys: WrappedKey[];
}

export interface RewrapReport {
  readonly rewrapped: string[];
  readonly skipped: string[];
  readonly toVersion: number;
}

/** What `tenant shred` did and the proof that nothing opens the tenant's backups any more. */
export interface ShredReport {
  readonly tenant: string;
  readonly approvedBy: string[];
  readonly destroyedKeys: string[];
  /** Keys that were already gone from their provider. */
  readonly alreadyGone: string[];
  readonly backups: string[];
  readonly keyringsDeleted: number;
  /** Keyrings storage refused to delete (object lock): harmless, their KEKs are gone. */
  readonly keyringsKept: number;
  /** Per backup: every wrap was tried after the destruction and failed with this error. */
  readonly proof: { backupId: string; wraps: number; error: string }[];
  /** Per tenant slot: opening its key after the destruction failed with this error. */
  readonly keyProof: { kekId: string; error: string }[];
}

export interface KeyCheckResult {
  /** KEK version of the slot; 0 for a tenant's slot. */
  readonly version: number;
  /** Set for a tenant's slot. */
  readonly tenant?: string;
  readonly kekId: string;
  readonly type: Slot['type'];
  readonly ok: boolean;
  /** False for a public-key slot whose private key was not given: only the wrap was proven. */
  readonly unwrapChecked: boolean;
  readonly problem?: string;
}

/**
 * Key management of one opened repository: which KEK version new backups are wrapped for, how a
 * backup's data key is found (newest keyring first, then the archive header), rotation, rewrap,
 * disabling and destroying versions, and the canary check. See docs/keys.md.
 */
export class KeyService {
  private readonly providers: ProviderCache;
  private readonly extra: KeyUnwrapper[] = [];
  private versions?: Promise<KekVersion[]>;
  private tenants?: Promise<Tenant[]>;

  private constructor(private readonly repo: Repository) {
    this.providers = new ProviderCache(repo.keys.supplier, repo.store.location);
  }

  /** The key service of an opened repository (one per Repository object). */
  static of(repo: Repository): KeyService {
    let service = services.get(repo);
    if (!service) {
      service = new KeyService(repo);
      services.set(repo, service);
    }
    return service;
  }

  /** A passphrase tried before the supplier's: the one of a new slot, during rotation, rewrap and recovery. */
  addPassphrase(passphrase: string): void {
    this.providers.addPassphrase(passphrase);
  }

  /** Adds an unwrapper tried before any other (a recovered recovery key). */
  addUnwrapper(unwrapper: KeyUnwrapper): void {
    this.extra.push(unwrapper);
  }

  async listVersions(): Promise<KekVersion[]> {
    return (this.versions ??= listKekVersions(this.repo));
  }

  /** The repository's tenants (cached for this service). */
  async listTenants(): Promise<Tenant[]> {
    return (this.tenants ??= listTenants(this.repo));
  }

  /** Records a tenant (see `defineTenant`); backups made through this service from now on use its slots. */
  async defineTenant(spec: Parameters<typeof defineTenant>[1]): Promise<TenantBody> {
    try {
      return await defineTenant(this.repo, spec);
    } finally {
      this.tenants = undefined;
    }
  }

  /** The tenant whose source a backup was taken of, if any. */
  async tenantOfBackup(backupId: string): Promise<Tenant | undefined> {
    const tenants = await this.listTenants();
    if (tenants.length === 0) return undefined;
    const backup = await this.repo.catalog.getBackup(backupId);
    const source = backup ? await this.repo.catalog.getSource(backup.sourceId) : undefined;
    return source ? tenantOfSource(tenants, source.kind, source.location) : undefined;
  }

  /**
   * Wraps a fresh data key for every slot of the current KEK version or, when `source` belongs to a
   * tenant, for the tenant's slots only (so that shredding them leaves no other way in).
   */
  async wrapDataKey(dek: Buffer, source?: { kind: string; location: string }): Promise<WrappedDataKey> {
    // Read afresh for every backup: a long-running engine must see a tenant defined since it started.
    if (source) this.tenants = undefined;
    const tenant = source ? tenantOfSource(await this.listTenants(), source.kind, source.location) : undefined;
    if (tenant) {
      if (tenant.shredded) throw new ConflictError(`source ${source!.location} belongs to tenant ${tenant.name}, crypto-shredded at ${tenant.shredded.at}: no new backups`);
      const keys: WrappedKey[] = [];
      for (const slot of tenant.slots) keys.push(await (await this.providers.wrapper(slot)).wrap(dek));
      return { kekVersion: 0, tenant: tenant.name, keys };
    }
    const current = await currentKekVersion(this.repo);
    const keys: WrappedKey[] = [];
    for (const slot of current.slots) keys.push(await (await this.providers.wrapper(slot)).wrap(dek));
    return { kekVersion: current.version, keys };
  }

  /**
   * Recovers a backup's data key: the wraps of its newest keyring come first, then older ones,
   * then the archive header's. Providers that need no prompt are tried before a passphrase is
   * asked for. WrongKeyError when none opens; the UsageError of a missing secret when nothing could be tried.
   */
  async unlockBackup(backupId: string, headerKeys: readonly WrappedKey[]): Promise<Buffer> {
    const tenant = await this.tenantOfBackup(backupId);
    if (tenant?.shredded)
      throw new WrongKeyError(`backup ${backupId} belongs to tenant ${tenant.name}, crypto-shredded at ${tenant.shredded.at}: its keys were destroyed and it can no longer be decrypted`);
    const rings = await readKeyrings(this.repo, backupId);
    const seen = new Set<string>();
    const candidates: WrappedKey[] = [];
    for (const key of [...rings.flatMap((r) => r.keys), ...headerKeys]) {
      const id = JSON.stringify(key);
      if (!seen.has(id)) {
        seen.add(id);
        candidates.push(key);
      }
    }
    for (const unwrapper of this.extra) {
      for (const wrapped of candidates) if (unwrapper.canUnwrap(wrapped)) return unwrapper.unwrap(wrapped);
    }
    const slots = [...(await this.listVersions()).flatMap((v) => v.slots), ...(await this.listTenants()).flatMap((t) => t.slots)];
    // Passphrase wraps last: a provider that needs no prompt may open the backup first.
    const ordered = [...candidates.filter((k) => k.type !== 'passphrase'), ...candidates.filter((k) => k.type === 'passphrase')];
    const missing: Error[] = [];
    const failures: Error[] = [];
    for (const wrapped of ordered) {
      let unwrapper: KeyUnwrapper;
      try {
        unwrapper = await this.providers.unwrapper(wrapped, slots);
      } catch (err) {
        if (err instanceof UsageError) missing.push(err);
        else failures.push(err as Error);
        continue;
      }
      if (!unwrapper.canUnwrap(wrapped)) continue;
      try {
        return await unwrapper.unwrap(wrapped);
      } catch (err) {
        failures.push(err as Error);
      }
    }
    const wrongKey = failures.find((e) => e instanceof WrongKeyError);
    if (wrongKey) throw wrongKey;
    if (failures.length > 0) throw failures[0]!;
    if (missing.length > 0) throw missing[0]!;
    const ids = candidates.map((k) => k.kekId).join(', ');
    throw new WrongKeyError(`no key slot of backup ${backupId} can be opened with the keys given (slots: ${ids})`);
  }

  /** Opens a backup's archive with its data key (checks the key against the archive). */
  async openArchive(backupId: string): Promise<{ reader: ArchiveReader; dek: Buffer; headerKeys: WrappedKey[] }> {
    let dek: Buffer | undefined;
    let headerKeys: WrappedKey[] = [];
    const source = await randomAccess(this.repo.store, archiveKey(backupId));
    const reader = await ArchiveReader.open(source, async (keys) => {
      headerKeys = keys;
      dek = await this.unlockBackup(backupId, keys);
      return Buffer.from(dek);
    });
    return { reader, dek: dek!, headerKeys };
  }

  /** The wraps a backup is opened by today: its newest keyring's, or its header's. No key needed. */
  async currentWraps(backupId: string): Promise<WrappedKey[]> {
    const rings = await readKeyrings(this.repo, backupId);
    if (rings[0]) return rings[0].keys;
    return this.headerWraps(backupId);
  }

  /** Creates KEK version n+1 with `slots`; new backups are wrapped for it. */
  async rotate(slots: readonly Slot[], cryptoperiodDays?: number): Promise<KekVersion> {
    if (slots.length === 0) throw new UsageError('a KEK version needs at least one key slot');
    const versions = await this.listVersions();
    const version = (versions.at(-1)?.version ?? 0) + 1;
    const body = {
      formatVersion: 1 as const,
      repositoryId: this.repo.descriptor.repositoryId,
      version,
      createdAt: new Date().toISOString(),
      // Recorded even when defaulted, so a later change of the default does not move old deadlines.
      cryptoperiodDays: cryptoperiodDays ?? DEFAULT_CRYPTOPERIOD_DAYS,
      slots: [...slots],
    };
    // Slots come from buildSlot, which proved each provider with a canary wrap.
    await writeKekVersion(this.repo, body);
    this.versions = undefined;
    return { ...body, state: 'active' };
  }

  /**
   * Rewraps the data key of every backup (or those opened today only by `fromVersion`) for the
   * current KEK version, in a new keyring object. Archive objects are not read beyond their
   * header and final frame, and never written.
   */
  async rewrap(options: { fromVersion?: number } = {}): Promise<RewrapReport> {
    const current = await currentKekVersion(this.repo);
    const versions = await this.listVersions();
    const currentIds = new Set(current.slots.map((s) => s.kekId));
    const rewrapped: string[] = [];
    const skipped: string[] = [];
    for (const backup of await this.repo.catalog.listBackups()) {
      const wraps = await this.currentWraps(backup.id);
      // A tenant's backups stay wrapped for the tenant's slots only: a wrap for a repository KEK
      // (or the recovery key) would survive a shred.
      if (await this.isTenantWrapped(backup.id, wraps)) {
        skipped.push(backup.id);
        continue;
      }
      const uses = versionsOf(wraps, versions);
      const done = current.slots.every((s) => wraps.some((w) => w.kekId === s.kekId)) && wraps.every((w) => currentIds.has(w.kekId));
      if (done || (options.fromVersion !== undefined && !uses.has(options.fromVersion))) {
        skipped.push(backup.id);
        continue;
      }
      const { dek } = await this.openArchive(backup.id);
      try {
        const { keys } = await this.wrapDataKey(dek);
        await writeKeyring(this.repo, backup.id, current.version, keys);
      } finally {
        dek.fill(0);
      }
      rewrapped.push(backup.id);
    }
    return { rewrapped, skipped, toVersion: current.version };
  }

  /** Backups that could no longer be opened if `version` were gone (none of their wraps belongs to another live version). */
  async backupsNeeding(version: number): Promise<string[]> {
    const versions = await this.listVersions();
    const live = versions.filter((v) => v.version !== version && v.state !== 'destroyed');
    const liveIds = new Set(live.flatMap((v) => v.slots.map((s) => s.kekId)));
    const target = versions.find((v) => v.version === version);
    if (!target) throw new NotFoundError(`there is no KEK version ${version}`);
    const needing: string[] = [];
    for (const backup of await this.repo.catalog.listBackups()) {
      const wraps = await this.currentWraps(backup.id);
      if (await this.isTenantWrapped(backup.id, wraps)) continue; // opened by the tenant's slots, not by KEK versions
      if (!wraps.some((w) => liveIds.has(w.kekId))) needing.push(backup.id);
    }
    return needing;
  }

  /** Stops wrapping new backups for `version` (it still opens old ones). */
  async disable(version: number): Promise<void> {
    const versions = await this.listVersions();
    const target = versions.find((v) => v.version === version);
    if (!target) throw new NotFoundError(`there is no KEK version ${version}`);
    if (target.state !== 'active') throw new ConflictError(`KEK version ${version} is already ${target.state}`);
    if (!versions.some((v) => v.version !== version && v.state === 'active'))
      throw new ConflictError(`KEK version ${version} is the only active one: run \`tresor keys rotate\` first`);
    await writeKekState(this.repo, version, 'disabled');
    this.versions = undefined;
  }

  /**
   * Destroys a disabled version: deletes what Tresor can delete (HSM keys) and records it.
   * Refuses, naming them, while a backup still needs it.
   */
  async destroy(version: number): Promise<{ destroyedKeys: string[]; notDestroyable: string[] }> {
    const versions = await this.listVersions();
    const target = versions.find((v) => v.version === version);
    if (!target) throw new NotFoundError(`there is no KEK version ${version}`);
    if (target.state === 'active') throw new ConflictError(`KEK version ${version} is active: \`tresor keys disable ${version}\` first`);
    if (target.state === 'destroyed') throw new ConflictError(`KEK version ${version} is already destroyed`);
    const needing = await this.backupsNeeding(version);
    if (needing.length > 0) {
      const shown = needing.slice(0, 10).join(', ');
      throw new ConflictError(
        `KEK version ${version} is still the only key of ${needing.length} backup(s): ${shown}${needing.length > 10 ? ', …' : ''}; run \`tresor keys rewrap --from-version ${version}\` (or let retention delete them) first`,
      );
    }
    const destroyedKeys: string[] = [];
    const notDestroyable: string[] = [];
    for (const slot of target.slots) {
      if (slot.type === 'pkcs11-aes-gcm' && this.repo.keys.supplier.pkcs11Pin) {
        const pin = await this.repo.keys.supplier.pkcs11Pin(slot.tokenLabel);
        await Pkcs11Kek.destroy({ module: process.env.TRESOR_PKCS11_MODULE ?? slot.module, tokenLabel: slot.tokenLabel, keyLabel: slot.keyLabel, pin });
        destroyedKeys.push(slot.kekId);
      } else notDestroyable.push(slot.kekId);
    }
    await writeKekState(this.repo, version, 'destroyed');
    this.versions = undefined;
    return { destroyedKeys, notDestroyable };
  }

  /**
   * Crypto-shreds a tenant: checks two custodians' approvals, refuses when any wrap of the tenant's
   * backups belongs to a key outside the tenant (it would survive), destroys the tenant's keys in
   * their providers, deletes its keyrings where storage allows, then proves the erasure by trying
   * every wrap of every backup and each key again with fresh providers. Records the shred only when
   * nothing opened.
   */
  async shredTenant(name: string, approvals: readonly { name: string; bytes: Buffer }[]): Promise<ShredReport> {
    const tenant = await getTenant(this.repo, name);
    if (tenant.shredded) throw new ConflictError(`tenant ${name} was already shredded at ${tenant.shredded.at}`);
    const approvedBy = verifyShredApprovals(tenant, approvals);
    const sourceIds = new Set<string>();
    for (const s of await this.repo.catalog.listSources()) if (tenant.sources.some((t) => t.kind === s.kind && t.location === s.location)) sourceIds.add(s.id);
    const backups = (await this.repo.catalog.listBackups()).filter((b) => sourceIds.has(b.sourceId)).map((b) => b.id);
    const tenantKeks = new Set(tenant.slots.map((s) => s.kekId));
    const wrapsOf = new Map<string, { keys: WrappedKey[]; rings: number[] }>();
    const foreign: string[] = [];
    for (const id of backups) {
      const rings = await readKeyrings(this.repo, id);
      const keys = [...rings.flatMap((r) => r.keys), ...(await this.headerWraps(id))];
      wrapsOf.set(id, { keys, rings: rings.map((r) => r.sequence) });
      if (keys.some((k) => !tenantKeks.has(k.kekId))) foreign.push(id);
    }
    if (foreign.length > 0)
      throw new ConflictError(
        `${foreign.length} backup(s) of tenant ${name} are also wrapped for keys outside the tenant (taken before it had its own keys?): ${foreign.slice(0, 10).join(', ')}; shredding would not erase them — delete them (\`tresor forget\`) or destroy those keys first`,
      );

    await this.providers.close();
    const destroyedKeys: string[] = [];
    const alreadyGone: string[] = [];
    for (const slot of tenant.slots) {
      if (slot.type === 'pkcs11-aes-gcm') {
        if (!this.repo.keys.supplier.pkcs11Pin) throw new UsageError(`PKCS#11 token '${slot.tokenLabel}' needs its PIN: set TRESOR_PKCS11_PIN`);
        const pin = await this.repo.keys.supplier.pkcs11Pin(slot.tokenLabel);
        const gone = await Pkcs11Kek.destroy({ module: process.env.TRESOR_PKCS11_MODULE ?? slot.module, tokenLabel: slot.tokenLabel, keyLabel: slot.keyLabel, pin });
        (gone ? destroyedKeys : alreadyGone).push(slot.kekId);
      } else if (slot.type === 'aws-kms') {
        const kek = new AwsKmsKek({ keyId: slot.keyId, region: slot.region, ...((process.env.TRESOR_AWS_KMS_ENDPOINT ?? slot.endpoint) ? { endpoint: process.env.TRESOR_AWS_KMS_ENDPOINT ?? slot.endpoint } : {}) });
        try {
          (await kek.destroy() ? destroyedKeys : alreadyGone).push(slot.kekId);
        } finally {
          kek.close();
        }
      } else if (slot.type === 'gcp-kms') {
        const kek = new GcpKmsKek({ keyName: slot.keyName });
        try {
          ((await kek.destroy()).length > 0 ? destroyedKeys : alreadyGone).push(slot.kekId);
        } finally {
          await kek.close();
        }
      } else throw new IntegrityError(`tenant ${name} has a ${slot.type} slot, which Tresor cannot destroy`);
    }

    let keyringsDeleted = 0;
    let keyringsKept = 0;
    for (const [id, { rings }] of wrapsOf) {
      for (const seq of rings) {
        // Object lock may refuse: the keyring is useless without its KEK, so that is not a failure.
        if (await this.repo.store.delete(keyringKey(id, seq)).then(() => true, () => false)) keyringsDeleted++;
        else keyringsKept++;
      }
    }

    // The proof: fresh providers (no cached session or key) must fail on every wrap and every key.
    const fresh = new ProviderCache(this.repo.keys.supplier, this.repo.store.location);
    const proof: ShredReport['proof'] = [];
    const keyProof: ShredReport['keyProof'] = [];
    try {
      for (const [backupId, { keys }] of wrapsOf) {
        let error = '';
        for (const wrapped of keys) {
          const opened = await fresh
            .unwrapper(wrapped, tenant.slots)
            .then((u) => u.unwrap(wrapped))
            .then(
              (dek) => {
                dek.fill(0);
                return true;
              },
              (err: unknown) => {
                error ||= (err as Error).message;
                return false;
              },
            );
          if (opened) throw new IntegrityError(`shred of tenant ${name} failed: backup ${backupId} still opens with ${wrapped.kekId}`);
        }
        proof.push({ backupId, wraps: keys.length, error });
      }
      for (const slot of tenant.slots) {
        const err = await fresh.wrapper(slot).then((w) => w.wrap(generateDataKey())).then(() => undefined, (e: unknown) => e as Error);
        if (!err) throw new IntegrityError(`shred of tenant ${name} failed: key ${slot.kekId} still works`);
        keyProof.push({ kekId: slot.kekId, error: err.message });
      }
    } finally {
      await fresh.close();
    }
    await writeTenantShredded(this.repo, { name, at: new Date().toISOString(), approvedBy, destroyedKeys: [...destroyedKeys, ...alreadyGone], backups });
    this.tenants = undefined;
    return { tenant: name, approvedBy, destroyedKeys, alreadyGone, backups, keyringsDeleted, keyringsKept, proof, keyProof };
  }

  /**
   * True when a backup is opened only by its tenant's slots. A backup of a tenant's source taken
   * before the tenant existed is wrapped for repository keys: it stays an ordinary backup (rewrapped
   * on rotation, counted by destroy) so that destroying an old version cannot strand it.
   */
  private async isTenantWrapped(backupId: string, wraps: readonly WrappedKey[]): Promise<boolean> {
    const tenant = await this.tenantOfBackup(backupId);
    return !!tenant && wraps.length > 0 && wraps.every((w) => tenant.slots.some((s) => s.kekId === w.kekId));
  }

  /** The wraps in a backup's archive header (no key needed). */
  private async headerWraps(backupId: string): Promise<WrappedKey[]> {
    let captured: WrappedKey[] = [];
    const stop = new Error('header read');
    const source = await randomAccess(this.repo.store, archiveKey(backupId));
    await ArchiveReader.open(source, async (keys) => {
      captured = keys;
      throw stop;
    }).catch((err: unknown) => {
      if (err !== stop) throw err;
    });
    return captured;
  }

  /** Wraps and unwraps a fresh canary data key with every slot of every active version and of every tenant not shredded. */
  async check(): Promise<KeyCheckResult[]> {
    const results: KeyCheckResult[] = [];
    const groups = [
      ...(await this.listVersions()).filter((v) => v.state === 'active').map((v) => ({ version: v.version, tenant: undefined, slots: v.slots })),
      ...(await this.listTenants()).filter((t) => !t.shredded).map((t) => ({ version: 0, tenant: t.name, slots: t.slots })),
    ];
    for (const version of groups) {
      for (const slot of version.slots) {
        const base = { version: version.version, ...(version.tenant ? { tenant: version.tenant } : {}), kekId: slot.kekId, type: slot.type };
        try {
          const canary = generateDataKey();
          const wrapped = await (await this.providers.wrapper(slot)).wrap(canary);
          let unwrapper: KeyUnwrapper;
          try {
            unwrapper = await this.providers.unwrapper(wrapped, version.slots);
          } catch (err) {
            // A write-only host has no private key: proving the wrap is all it can do.
            if (err instanceof UsageError && (slot.type === 'rsa-oaep-sha256' || slot.type === 'x25519')) {
              results.push({ ...base, ok: true, unwrapChecked: false, problem: 'wrap only: no private key (--identity) given' });
              continue;
            }
            throw err;
          }
          if (!unwrapper.canUnwrap(wrapped)) throw new WrongKeyError(`the key given does not belong to slot ${slot.kekId}`);
          const back = await unwrapper.unwrap(wrapped);
          if (!back.equals(canary)) throw new IntegrityError('the canary came back different');
          results.push({ ...base, ok: true, unwrapChecked: true });
        } catch (err) {
          results.push({ ...base, ok: false, unwrapChecked: false, problem: (err as Error).message });
        }
      }
    }
    return results;
  }

  async close(): Promise<void> {
    await this.providers.close();
  }
}

/** The KEK versions whose slots a set of wraps belongs to. */
export function versionsOf(wraps: readonly WrappedKey[], versions: readonly KekVersion[]): Set<number> {
  const result = new Set<number>();
  for (const v of versions) if (v.slots.some((s) => wraps.some((w) => w.kekId === s.kekId))) result.add(v.version);
  return result;
}
