import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import pkcs11js from 'pkcs11js';
import { hsmToken } from '../../support/infra.js';

const b64url = (b: Buffer): string => b.toString('base64url');

describe('PKCS#11 (SoftHSM2) through pkcs11js', () => {
  it('generates an RSA key on the token, signs, and node:crypto verifies', () => {
    const token = hsmToken();
    onTestFinished(() => token.cleanup());
    const p11 = new pkcs11js.PKCS11();
    p11.load(token.module);
    p11.C_Initialize();
    try {
      const slot = p11
        .C_GetSlotList(true)
        .find((s) => p11.C_GetTokenInfo(s).label.trim() === token.tokenLabel);
      expect(slot, `token ${token.tokenLabel}`).toBeDefined();
      const session = p11.C_OpenSession(slot!, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        p11.C_Login(session, pkcs11js.CKU_USER, token.pin);
        const id = Buffer.from(token.keyLabel);
        const keys = p11.C_GenerateKeyPair(
          session,
          { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
          [
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_LABEL, value: token.keyLabel },
            { type: pkcs11js.CKA_ID, value: id },
            { type: pkcs11js.CKA_VERIFY, value: true },
            { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ],
          [
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_LABEL, value: token.keyLabel },
            { type: pkcs11js.CKA_ID, value: id },
            { type: pkcs11js.CKA_SIGN, value: true },
            { type: pkcs11js.CKA_PRIVATE, value: true },
            { type: pkcs11js.CKA_SENSITIVE, value: true },
            { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          ],
        );
        const data = Buffer.from('manifest digest to sign');
        p11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, keys.privateKey);
        const signature = p11.C_Sign(session, data, Buffer.alloc(256));

        const [modulus, exponent] = p11
          .C_GetAttributeValue(session, keys.publicKey, [
            { type: pkcs11js.CKA_MODULUS },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT },
          ])
          .map((a) => a.value as Buffer);
        const pub = createPublicKey({
          key: { kty: 'RSA', n: b64url(modulus!), e: b64url(exponent!) },
          format: 'jwk',
        });
        expect(verify('sha256', data, pub, signature)).toBe(true);
        expect(verify('sha256', Buffer.from('something else'), pub, signature)).toBe(false);

        // The private key never leaves the token.
        const [sensitive] = p11.C_GetAttributeValue(session, keys.privateKey, [
          { type: pkcs11js.CKA_SENSITIVE },
        ]);
        expect((sensitive!.value as Buffer)[0]).toBe(1);
        p11.C_Logout(session);
      } finally {
        p11.C_CloseSession(session);
      }
    } finally {
      p11.C_Finalize();
    }
  });
});
