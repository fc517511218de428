import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '@tresor/errors';
import { createDecryptStream, createEncryptStream } from './stream.js';
import { encryptedLength, streamLayout } from './stream-layout.js';
import { decryptFrame, FRAME_SIZE, TAG_SIZE } from './stream-frame.js';

const key = randomBytes(32);
const sealed = FRAME_SIZE + TAG_SIZE;

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function encrypt(data: Buffer, chunkSize = 10_000, frameSize = FRAME_SIZE): Promise<Buffer> {
  return buffer(Readable.from(chunks(data, chunkSize)).pipe(createEncryptStream(key, frameSize)));
}

async function decrypt(data: Buffer, k = key, chunkSize = 7_777, frameSize = FRAME_SIZE): Promise<Buffer> {
  return buffer(Readable.from(chunks(data, chunkSize)).pipe(createDecryptStream(k, { frameSize })));
}

async function decryptError(data: Buffer, k = key): Promise<IntegrityError> {
  const err = await decrypt(data, k).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrityError);
  return err as IntegrityError;
}

describe('STREAM encrypt/decrypt', () => {
  it.each([0, 1, FRAME_SIZE - 1, FRAME_SIZE, FRAME_SIZE + 1, 3 * FRAME_SIZE, 3 * FRAME_SIZE + 5])(
    'round-trips %i bytes with the predicted length',
    async (size) => {
      const plaintext = randomBytes(size);
      const ciphertext = await encrypt(plaintext);
      expect(ciphertext.length).toBe(encryptedLength(size, FRAME_SIZE));
      expect(streamLayout(ciphertext.length, FRAME_SIZE).plaintextLength).toBe(size);
      expect((await decrypt(ciphertext)).equals(plaintext)).toBe(true);
    },
  );

  it('does not depend on how the input is chunked', async () => {
    const plaintext = randomBytes(2 * FRAME_SIZE + 3);
    const a = await encrypt(plaintext, 1_000_000);
    expect((await decrypt(a, key, 97)).equals(plaintext)).toBe(true);
    expect((await decrypt(a, key, 1_000_000)).equals(plaintext)).toBe(true);
  });

  it('round-trips with a small frame size', async () => {
    const plaintext = randomBytes(1000);
    const ciphertext = await encrypt(plaintext, 1, 64);
    expect((await decrypt(ciphertext, key, 1, 64)).equals(plaintext)).toBe(true);
    expect((await decrypt(ciphertext, key, 50, 64)).equals(plaintext)).toBe(true);
  });

  it('seals a full final frame with the last-frame flag', async () => {
    const ciphertext = await encrypt(randomBytes(2 * FRAME_SIZE));
    expect(ciphertext.length).toBe(2 * sealed);
    expect(decryptFrame(key, 1, ciphertext.subarray(sealed), true).length).toBe(FRAME_SIZE);
    expect(() => decryptFrame(key, 1, ciphertext.subarray(sealed), false)).toThrow(IntegrityError);
  });
});

describe('STREAM tamper detection', () => {
  const plaintext = randomBytes(3 * FRAME_SIZE + 100);
  const ciphertextPromise = encrypt(plaintext);

  it('detects a dropped final frame (truncation at a frame boundary)', async () => {
    const c = await ciphertextPromise;
    const err = await decryptError(c.subarray(0, 3 * sealed));
    expect(err.message).toMatch(/after frame 2 without its final frame/);
  });

  it('detects a cut in the middle of a frame', async () => {
    const c = await ciphertextPromise;
    expect((await decryptError(c.subarray(0, sealed + 500))).message).toMatch(/frame 1/);
    expect((await decryptError(c.subarray(0, c.length - 1))).message).toMatch(/frame 3/);
    expect((await decryptError(c.subarray(0, 3 * sealed + 5))).message).toMatch(/frame 3/);
  });

  it('detects an empty ciphertext', async () => {
    expect((await decryptError(Buffer.alloc(0))).message).toMatch(/no final frame/);
  });

  it('detects two reordered frames', async () => {
    const c = await ciphertextPromise;
    const swapped = Buffer.concat([
      c.subarray(sealed, 2 * sealed),
      c.subarray(0, sealed),
      c.subarray(2 * sealed),
    ]);
    expect((await decryptError(swapped)).message).toMatch(/frame 0 failed authentication/);
  });

  it('detects a dropped middle frame', async () => {
    const c = await ciphertextPromise;
    const dropped = Buffer.concat([c.subarray(0, sealed), c.subarray(2 * sealed)]);
    expect((await decryptError(dropped)).message).toMatch(/frame 1 failed authentication/);
  });

  it.each([
    ['ciphertext of frame 0', 10, 0],
    ['tag of frame 1', 2 * sealed - 1, 1],
    ['ciphertext of the final frame', 3 * sealed + 1, 3],
    ['tag of the final frame', 3 * sealed + 100 + TAG_SIZE - 1, 3],
  ])('detects a flipped bit in the %s', async (_what, offset, frame) => {
    const c = Buffer.from(await ciphertextPromise);
    c[offset]! ^= 0x01;
    expect((await decryptError(c)).message).toMatch(new RegExp(`frame ${frame} failed`));
  });

  it('detects bytes appended after the final frame', async () => {
    const c = await ciphertextPromise;
    const err = await decryptError(Buffer.concat([c, Buffer.from('x')]));
    expect(err.message).toMatch(/frame 3/);
    const full = await encrypt(randomBytes(FRAME_SIZE));
    expect((await decryptError(Buffer.concat([full, Buffer.from('tail')]))).message).toMatch(
      /unexpected data after the final frame 0/,
    );
  });

  it('detects a final frame re-flagged as a middle frame by appending a copy', async () => {
    const c = await encrypt(randomBytes(10));
    expect((await decryptError(Buffer.concat([c, c]))).message).toMatch(/frame/);
  });

  it('fails with the wrong key', async () => {
    const c = await ciphertextPromise;
    expect((await decryptError(c, randomBytes(32))).message).toMatch(/frame 0 failed authentication/);
  });
});
