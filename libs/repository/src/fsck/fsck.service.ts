import type { BackupRecord } from '@tresor/catalog';
import { TresorError } from '@tresor/errors';
import { copiesOf, hashObject } from '@tresor/storage';
import type { ObjectInfo, ObjectStore } from '@tresor/storage';
import { readObject } from '../io.js';
import { KEYRING_PREFIX } from '../keyring/keyring.js';
import { KEK_PREFIX } from '../keyring/kek-versions.js';
import { ARCHIVE_PREFIX, archiveKey, MANIFEST_PREFIX, manifestKey, REPOSITORY_OBJECT } from '../layout.js';
import { loadManifest } from '../manifests.js';
import { repairOrphan } from './repair.js';
import type { FsckRepair, RepairOptions } from './repair.js';
import type { Repository } from '../repository.js';
import { createHash } from 'node:crypto';

export interface FsckOptions {
  /** Also read every archive in every location and compare its SHA-256 with the catalog's. */
  readonly readData?: boolean;
  /** Delete orphan objects older than `repair.olderThanMs` (see repairOrphan); otherwise nothing changes. */
  readonly repair?: RepairOptions;
}

/**
 * Kinds of findings:
 * - `missing`: the catalog records a backup whose archive or manifest a location does not hold;
 * - `mismatch`: a stored object's size or SHA-256 differs from the catalog, or its manifest does not verify;
 * - `broken-chain`: a backup takes content from a backup the catalog does not have;
 * - `orphan`: an archive, manifest or keyring of a backup the catalog does not know (left by an
 *   interrupted backup or forget; garbage, no data at risk, but storage and catalog disagree);
 * - `unreachable`: a location could not be listed or read, so it was not checked;
 * - `unknown`: an object under a key Tresor never writes.
 */
export type FsckKind = 'missing' | 'mismatch' | 'broken-chain' | 'orphan' | 'unreachable' | 'unknown';

export interface FsckFinding {
  readonly kind: FsckKind;
  /** The storage location, or `catalog` for findings about the catalog alone. */
  readonly location: string;
  readonly key?: string;
  readonly backupId?: string;
  readonly problem: string;
}

export interface FsckReport {
  readonly ok: boolean;
  readonly backups: number;
  readonly locations: readonly string[];
  /** Objects seen, over every location. */
  readonly objects: number;
  /** Bytes hashed with readData. */
  readonly bytesRead: number;
  readonly readData: boolean;
  readonly findings: readonly FsckFinding[];
  /** With `repair`: what was done with each orphan (deleted ones are no longer in `findings`). */
  readonly repairs: readonly FsckRepair[];
}

const ARCHIVE_KEY = /^archives\/([A-Za-z0-9._-]+)\.tra$/;
const MANIFEST_KEY = /^manifests\/([A-Za-z0-9._-]+)\.json$/;
const KEYRING_KEY = /^keyrings\/([A-Za-z0-9._-]+)\/\d{8}\.json$/;
const KEK_KEY = /^kek\/\d{8}(\.[a-z-]+)?\.json$/;

/**
 * A repository-level consistency check: the catalog against every storage location. Needs no key:
 * archives are compared by size (and, with `readData`, by SHA-256), manifests by SHA-256 and
 * signature. Reads nothing but listings and manifests unless `readData`; changes nothing unless
 * `repair` (then it deletes old orphans, nothing else).
 */
export async function fsckRepository(repo: Repository, options: FsckOptions = {}): Promise<FsckReport> {
  const readData = options.readData ?? false;
  const findings: FsckFinding[] = [];
  const backups = await repo.catalog.listBackups();
  const byId = new Map<string, BackupRecord>(backups.map((b) => [b.id, b]));
  const copies = copiesOf(repo.store);
  const repairs: FsckRepair[] = [];
  let objects = 0;
  let bytesRead = 0;

  // The catalog alone: every backup whose content a backup takes must itself be catalogued.
  for (const backup of backups) {
    for (const dataId of backup.dataBackupIds) {
      if (!byId.has(dataId)) {
        findings.push({
          kind: 'broken-chain',
          location: 'catalog',
          backupId: backup.id,
          problem: `backup ${backup.id} takes content from backup ${dataId}, which the catalog does not have`,
        });
      }
    }
  }

  // Each manifest once through the (replicated) store: its signature and that it names this backup.
  for (const backup of backups) {
    try {
      const { manifest } = await loadManifest(repo, backup.id);
      if (manifest.archive.sha256 !== backup.archiveSha256 || manifest.archive.size !== backup.archiveSize) {
        findings.push({
          kind: 'mismatch',
          location: repo.store.location,
          key: manifestKey(backup.id),
          backupId: backup.id,
          problem: `backup ${backup.id}: the manifest's archive (${manifest.archive.size} bytes) differs from the catalog's (${backup.archiveSize} bytes)`,
        });
      }
    } catch (err) {
      if (!(err instanceof TresorError)) throw err;
      // Missing manifests are reported per location below; here only what does not verify.
      if (!/is missing from/.test(err.message)) {
        findings.push({ kind: 'mismatch', location: repo.store.location, key: manifestKey(backup.id), backupId: backup.id, problem: err.message });
      }
    }
  }

  for (const { name, store } of copies) {
    let listed: ObjectInfo[];
    try {
      listed = await listAll(store);
    } catch (err) {
      findings.push({ kind: 'unreachable', location: name, problem: `storage location ${name} cannot be listed: ${(err as Error).message}` });
      continue;
    }
    objects += listed.length;
    const present = new Map(listed.map((o) => [o.key, o]));
    if (!present.has(REPOSITORY_OBJECT)) {
      findings.push({ kind: 'missing', location: name, key: REPOSITORY_OBJECT, problem: `${name}: ${REPOSITORY_OBJECT} is missing` });
    }

    for (const backup of backups) {
      const archive = present.get(archiveKey(backup.id));
      if (!archive) {
        findings.push({ kind: 'missing', location: name, key: archiveKey(backup.id), backupId: backup.id, problem: `${name}: backup ${backup.id} has no archive ${archiveKey(backup.id)}` });
      } else if (archive.size !== backup.archiveSize) {
        findings.push({
          kind: 'mismatch',
          location: name,
          key: archive.key,
          backupId: backup.id,
          problem: `${name}: archive ${archive.key} is ${archive.size} bytes, the catalog says ${backup.archiveSize}`,
        });
      } else if (readData) {
        const hashed = await hashOrProblem(store, archive.key);
        if ('error' in hashed) {
          findings.push({ kind: 'unreachable', location: name, key: archive.key, backupId: backup.id, problem: `${name}: cannot read ${archive.key}: ${hashed.error}` });
        } else {
          bytesRead += hashed.size;
          if (hashed.sha256 !== backup.archiveSha256) {
            findings.push({ kind: 'mismatch', location: name, key: archive.key, backupId: backup.id, problem: `${name}: archive ${archive.key} SHA-256 differs from the catalog's` });
          }
        }
      }
      const manifest = present.get(manifestKey(backup.id));
      if (!manifest) {
        findings.push({ kind: 'missing', location: name, key: manifestKey(backup.id), backupId: backup.id, problem: `${name}: backup ${backup.id} has no manifest ${manifestKey(backup.id)}` });
      } else {
        // Manifests are small: their hash is always checked, in every location.
        let sha256: string | undefined;
        try {
          sha256 = createHash('sha256').update(await readObject(store, manifest.key)).digest('hex');
        } catch (err) {
          findings.push({ kind: 'unreachable', location: name, key: manifest.key, backupId: backup.id, problem: `${name}: cannot read ${manifest.key}: ${(err as Error).message}` });
        }
        if (sha256 !== undefined && sha256 !== backup.manifestSha256) {
          findings.push({ kind: 'mismatch', location: name, key: manifest.key, backupId: backup.id, problem: `${name}: manifest ${manifest.key} differs from the one recorded in the catalog` });
        }
      }
    }

    for (const object of listed) {
      const owner = ownerOfObject(object.key);
      if (owner === null) continue;
      if (owner === undefined) {
        findings.push({ kind: 'unknown', location: name, key: object.key, problem: `${name}: ${object.key} is not an object Tresor writes` });
      } else if (!byId.has(owner)) {
        if (options.repair) {
          const repair = await repairOrphan({ name, store }, object, owner, backups, options.repair);
          repairs.push(repair);
          if (repair.outcome === 'deleted') continue;
        }
        findings.push({
          kind: 'orphan',
          location: name,
          key: object.key,
          backupId: owner,
          problem: `${name}: ${object.key} belongs to backup ${owner}, which the catalog does not have`,
        });
      }
    }
  }

  return {
    ok: findings.length === 0,
    backups: backups.length,
    locations: copies.map((c) => c.name),
    objects,
    bytesRead,
    readData,
    findings,
    repairs,
  };
}

async function listAll(store: ObjectStore): Promise<ObjectInfo[]> {
  const all: ObjectInfo[] = [];
  for await (const info of store.list('')) all.push(info);
  return all;
}

async function hashOrProblem(store: ObjectStore, key: string): Promise<{ sha256: string; size: number } | { error: string }> {
  try {
    return await hashObject(store, key);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The backup an object belongs to; null for repository-wide objects; undefined for keys Tresor never writes. */
export function ownerOfObject(key: string): string | null | undefined {
  if (key === REPOSITORY_OBJECT || KEK_KEY.test(key)) return null;
  if (key.startsWith(ARCHIVE_PREFIX)) return ARCHIVE_KEY.exec(key)?.[1];
  if (key.startsWith(MANIFEST_PREFIX)) return MANIFEST_KEY.exec(key)?.[1];
  if (key.startsWith(KEYRING_PREFIX)) return KEYRING_KEY.exec(key)?.[1];
  if (key.startsWith(KEK_PREFIX)) return undefined;
  return undefined;
}
