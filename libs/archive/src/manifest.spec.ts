import { describe, expect, it } from 'vitest';
import { canonicalJson, generateSigningKeyPair, keyFingerprint, verifySignature } from '@tresor/crypto';
import { IntegrityError, UnsupportedError, UsageError } from '@tresor/errors';
import {
  manifestSigningBytes,
  parseManifest,
  serializeManifest,
  signManifest,
  verifyManifest,
} from './manifest.js';
import type { UnsignedManifest } from './manifest.js';

const keys = generateSigningKeyPair();
const keyId = keyFingerprint(keys.publicKeyPem);
const unsigned: UnsignedManifest = {
  formatVersion: 1,
  repositoryId: 'b0e4c1a2-5b9f-4c1e-9d5e-3f2a1b0c9d8e',
  backupId: '20261126T045300Z-3f9a1c2b',
  source: { id: 'src-1', kind: 'filesystem', location: '/etc/keys' },
  level: 'incremental',
  parentId: '20261125T045300Z-00000000',
  createdAt: '2026-11-26T04:53:00.000Z',
  completedAt: '2026-11-26T04:53:02.000Z',
  tags: ['nightly'],
  archive: { key: 'archives/20261126T045300Z-3f9a1c2b.tra', sha256: 'a'.repeat(64), size: 1234 },
  entriesRoot: 'b'.repeat(64),
  entryCount: 3,
  dataBackupIds: ['20261125T045300Z-00000000', '20261126T045300Z-3f9a1c2b'],
  stats: { files: 2, dirs: 1, symlinks: 0, bytesIn: 100, bytesStored: 80, reusedFiles: 1 },
};

describe('manifest', () => {
  it('signs canonical JSON of everything but the signature', () => {
    const manifest = signManifest(unsigned, keys.privateKeyPem, keyId);
    expect(manifest.signature).toMatchObject({ alg: 'ed25519', keyId });
    expect(manifestSigningBytes(manifest).toString()).toBe(canonicalJson(unsigned));
    expect(verifySignature(keys.publicKeyPem, canonicalJson(unsigned), manifest.signature.value)).toBe(true);
    expect(() => verifyManifest(manifest, keys.publicKeyPem)).not.toThrow();
  });

  it('round-trips through its stored form', () => {
    const manifest = signManifest(unsigned, keys.privateKeyPem, keyId);
    const stored = Buffer.from(serializeManifest(manifest));
    expect(stored.toString().endsWith('}\n')).toBe(true);
    const parsed = parseManifest(stored);
    expect(parsed).toEqual(manifest);
    expect(() => verifyManifest(parsed, keys.publicKeyPem)).not.toThrow();
  });

  it('detects any change to a signed field and another signer', () => {
    const manifest = signManifest(unsigned, keys.privateKeyPem, keyId);
    const tampered = { ...manifest, entriesRoot: 'c'.repeat(64) };
    expect(() => verifyManifest(tampered, keys.publicKeyPem)).toThrow(IntegrityError);
    expect(() => verifyManifest(tampered, keys.publicKeyPem)).toThrow(
      /manifest of backup 20261126T045300Z-3f9a1c2b has an invalid signature/,
    );
    expect(() => verifyManifest({ ...manifest, tags: [] }, keys.publicKeyPem)).toThrow(IntegrityError);
    expect(() => verifyManifest(manifest, generateSigningKeyPair().publicKeyPem)).toThrow(IntegrityError);
  });

  it('refuses to sign an invalid manifest', () => {
    expect(() => signManifest({ ...unsigned, entriesRoot: 'nope' }, keys.privateKeyPem, keyId)).toThrow(
      UsageError,
    );
    expect(() => signManifest({ ...unsigned, backupId: '../x' }, keys.privateKeyPem, keyId)).toThrow(
      /backupId/,
    );
  });

  it('reports bad JSON, bad shape and newer versions when parsing', () => {
    expect(() => parseManifest(Buffer.from('{not json'))).toThrow(IntegrityError);
    expect(() => parseManifest(Buffer.from('{not json'))).toThrow('manifest is not valid UTF-8 JSON');
    const manifest = signManifest(unsigned, keys.privateKeyPem, keyId);
    expect(() => parseManifest(JSON.stringify({ ...manifest, level: 'weekly' }))).toThrow(
      /manifest of backup 20261126T045300Z-3f9a1c2b is invalid: level/,
    );
    expect(() => parseManifest(JSON.stringify({ ...manifest, formatVersion: 2 }))).toThrow(UnsupportedError);
    expect(() => parseManifest(JSON.stringify({ ...manifest, formatVersion: 2 }))).toThrow(
      'manifest of backup 20261126T045300Z-3f9a1c2b has format version 2, newer than this tresor (supports 1)',
    );
  });
});
