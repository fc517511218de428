import pkcs11js from 'pkcs11js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConflictError, NotFoundError, WrongKeyError } from '@tresor/errors';
import { hsmToken } from '../../../test/support/infra.js';
import { generateDataKey } from './data-key.js';
import { Pkcs11Kek, pkcs11KekId } from './pkcs11-kek.js';
import { wrappedKeySchema } from './wrapped-key.js';
import type { Pkcs11Wrap } from './wrapped-key.js';

function token() {
  const hsm = hsmToken();
  onTestFinished(() => hsm.cleanup());
  return { hsm, ref: { module: hsm.module, tokenLabel: hsm.tokenLabel, keyLabel: hsm.keyLabel, pin: hsm.pin } };
}

describe('Pkcs11Kek (SoftHSM2)', () => {
  it('wraps and unwraps data keys with an AES key generated on the token', async () => {
    const { ref } = token();
    const kek = await Pkcs11Kek.generate(ref);
    onTestFinished(() => kek.close());
    expect(kek.kekId).toBe(pkcs11KekId(ref.tokenLabel, ref.keyLabel));
    const dek = generateDataKey();
    const wrapped = (await kek.wrap(dek)) as Pkcs11Wrap;
    expect(wrappedKeySchema.parse(JSON.parse(JSON.stringify(wrapped)))).toEqual(wrapped);
    expect(wrapped).toMatchObject({ type: 'pkcs11-aes-gcm', tokenLabel: ref.tokenLabel, keyLabel: ref.keyLabel });
    expect((await kek.unwrap(wrapped)).equals(dek)).toBe(true);

    // A second session (another process would do the same) opens it too.
    const again = await Pkcs11Kek.open(ref);
    onTestFinished(() => again.close());
    expect((await again.unwrap(wrapped)).equals(dek)).toBe(true);

    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    sealed[0]! ^= 1;
    await expect(kek.unwrap({ ...wrapped, ciphertext: sealed.toString('base64') })).rejects.toThrow(WrongKeyError);
    await expect(Pkcs11Kek.generate(ref)).rejects.toThrow(ConflictError);
  });

  it('keeps the key inside the token: sensitive, not extractable, value unreadable, cannot be wrapped out', async () => {
    const { ref } = token();
    const kek = await Pkcs11Kek.generate(ref);
    kek.close();
    const p11 = new pkcs11js.PKCS11();
    p11.load(ref.module);
    p11.C_Initialize();
    onTestFinished(() => p11.C_Finalize());
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === ref.tokenLabel)!;
    const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    onTestFinished(() => p11.C_CloseSession(session));
    p11.C_Login(session, pkcs11js.CKU_USER, ref.pin);
    p11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: ref.keyLabel }]);
    const [key] = p11.C_FindObjects(session, 2);
    p11.C_FindObjectsFinal(session);
    const [extractable, sensitive, neverExtractable] = p11.C_GetAttributeValue(session, key!, [
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
    ]);
    expect([extractable!.value, sensitive!.value, neverExtractable!.value]).toEqual([Buffer.from([0]), Buffer.from([1]), Buffer.from([1])]);
    expect(() => p11.C_GetAttributeValue(session, key!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    // Wrapping it out under another (session) key is refused by the token.
    const wrappingKey = p11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_WRAP, value: true },
    ]);
    expect(() => p11.C_WrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrappingKey, key!, Buffer.alloc(64))).toThrow(
      /CKR_KEY_UNEXTRACTABLE|CKR_KEY_NOT_WRAPPABLE/,
    );
  });

  it('names a wrong PIN, a missing key and a destroyed key without leaking the PIN', async () => {
    const { ref } = token();
    const wrongPin = '000000-not-the-pin';
    const err = (await Pkcs11Kek.open({ ...ref, pin: wrongPin }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(WrongKeyError);
    expect(err.message).toMatch(/wrong PIN for PKCS#11 token/);
    expect(err.message).not.toContain(wrongPin);
    await expect(Pkcs11Kek.open(ref)).rejects.toThrow(NotFoundError);

    const kek = await Pkcs11Kek.generate(ref);
    const wrapped = await kek.wrap(generateDataKey());
    kek.close();
    expect(await Pkcs11Kek.destroy(ref)).toBe(true);
    await expect(Pkcs11Kek.open(ref)).rejects.toThrow(/has no AES key labelled/);
    // A new key under the same label cannot open what the destroyed key sealed.
    const reborn = await Pkcs11Kek.generate(ref);
    onTestFinished(() => reborn.close());
    await expect(reborn.unwrap(wrapped)).rejects.toThrow(WrongKeyError);
  });
});
