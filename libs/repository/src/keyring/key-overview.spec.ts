import { describe, expect, it } from 'vitest';
import type { KekVersion } from './kek-versions.js';
import { keysOverview } from './key-overview.js';

const check = { alg: 'A256GCM', kekId: 'p1', iv: 'SECRET-IV-CANARY', ct: 'SECRET-CT-CANARY' } as unknown as Extract<KekVersion['slots'][number], { type: 'passphrase' }>['check'];
const versions: KekVersion[] = [
  { formatVersion: 1, repositoryId: 'r', version: 1, createdAt: '2026-01-01T00:00:00.000Z', state: 'disabled', slots: [{ type: 'passphrase', kekId: 'p1', check }] },
  {
    formatVersion: 1,
    repositoryId: 'r',
    version: 2,
    createdAt: '2026-11-20T00:00:00.000Z',
    cryptoperiodDays: 10,
    state: 'active',
    slots: [
      { type: 'passphrase', kekId: 'p2', check },
      { type: 'x25519', kekId: 'rk', publicKeyPem: '-----BEGIN PUBLIC KEY-----PEM-CANARY', recovery: { threshold: 2, shares: [{ custodian: 'alice', sha256: 'a'.repeat(64) }, { custodian: 'bob', sha256: 'b'.repeat(64) }] } },
      { type: 'aws-kms', kekId: 'kms', keyId: 'arn:aws:kms:KEYID-CANARY', region: 'eu-west-1' },
    ],
  },
];

describe('keysOverview', () => {
  const overview = keysOverview(versions, new Date('2026-11-26T00:00:00.000Z'), 30);

  it('judges each version against its cryptoperiod and lists the providers of active versions', () => {
    expect(overview.versions.map((v) => [v.version, v.status, v.ageDays, v.daysLeft])).toEqual([
      [1, 'inactive', 329, 36],
      [2, 'due', 6, 4],
    ]);
    expect(overview.providers).toEqual([
      { type: 'passphrase', versions: [2] },
      { type: 'x25519', versions: [2] },
      { type: 'aws-kms', versions: [2] },
    ]);
    expect(overview.versions[1]!.slots[1]).toEqual({ type: 'x25519', kekId: 'rk', recovery: { threshold: 2, custodians: ['alice', 'bob'] } });
  });

  it('carries no check wrap, public key or provider address', () => {
    const text = JSON.stringify(overview);
    for (const canary of ['SECRET-IV-CANARY', 'SECRET-CT-CANARY', 'PEM-CANARY', 'KEYID-CANARY', 'a'.repeat(64)]) expect(text).not.toContain(canary);
  });
});
