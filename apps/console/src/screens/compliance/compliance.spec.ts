import { describe, expect, it } from 'vitest';
import { slotText, cryptoperiodTone } from '../keys/keys';
import { controlLink, evidenceLink } from './compliance';

describe('compliance and keys screen helpers', () => {
  it('links evidence that names a backup, and controls to the screen they rest on', () => {
    expect(evidenceLink('lastBackupId', '20261126T161732Z-54705257')).toBe('/backups/20261126T161732Z-54705257');
    expect(evidenceLink('backupId', 'a/b')).toBe('/backups/a%2Fb');
    // Server data never becomes a link target of its own: a script URL stays text inside the console's path.
    expect(evidenceLink('backupId', 'javascript:alert(1)')).toBe('/backups/javascript%3Aalert(1)');
    expect(evidenceLink('backupId', '//evil.example/x')).toBe('/backups/%2F%2Fevil.example%2Fx');
    expect(evidenceLink('drillId', 'd-1')).toBeUndefined();
    expect(evidenceLink('backupId', 3)).toBeUndefined();
    expect(controlLink('kek-cryptoperiod')?.path).toBe('/keys');
    expect(controlLink('audit-chain')?.path).toBe('/audit');
    expect(controlLink('restore-drill')).toBeUndefined();
  });

  it('describes slots without key material and tones cryptoperiod states', () => {
    expect(slotText({ type: 'x25519', kekId: 'rk', recovery: { threshold: 2, custodians: ['alice', 'bob', 'carol'] } })).toBe('X25519 public key, recovery 2 of 3 (alice, bob, carol)');
    expect(slotText({ type: 'future-kms', kekId: 'k' })).toBe('future-kms');
    expect([cryptoperiodTone('ok'), cryptoperiodTone('due'), cryptoperiodTone('overdue'), cryptoperiodTone('inactive')]).toEqual(['ok', 'warn', 'bad', 'neutral']);
  });
});
