import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassphraseKek, passphraseUnwrapper, TAG_SIZE, unwrapDataKey } from '@tresor/crypto';
import type { KdfParams } from '@tresor/crypto';
import { IntegrityError, UnsupportedError, WrongKeyError } from '@tresor/errors';
import {
  dirEntry,
  makeHeader,
  openArchive,
  readAll,
  sealPayload,
  tablePayload,
  toArray,
  writeArchive,
  removeTmpDirs,
} from './archive.fixtures.js';
import type { WrittenArchive } from './archive.fixtures.js';
import { encodeFooter } from './footer.js';
import { PRELUDE_SIZE } from './format.js';
import { bufferSource } from './random-access-source.js';
import { ArchiveReader } from './reader.js';

afterAll(removeTmpDirs);

const FRAME = 4096;
const SEALED = FRAME + TAG_SIZE;

function headerLength(bytes: Buffer): number {
  return bytes.readUInt32BE(10);
}

function flip(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset]! ^= 0x01;
  return copy;
}

async function openError(bytes: Buffer, dek: Buffer): Promise<unknown> {
  return openArchive(bytes, dek).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('tampered archives', () => {
  let archive: WrittenArchive;
  let payloadStart: number;
  beforeAll(async () => {
    archive = await writeArchive(
      [
        { path: 'a.pem', content: randomBytes(3 * FRAME), codec: 'none', level: 0 },
        { path: 'b.pem', content: randomBytes(3 * FRAME), codec: 'none', level: 0 },
      ],
      { frameSize: FRAME },
    );
    payloadStart = PRELUDE_SIZE + headerLength(archive.bytes);
  });

  it('is intact before tampering', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    await expect(reader.verifyPayload()).resolves.toBeTruthy();
  });

  it('detects a changed header value (createdAt) at open', async () => {
    const text = archive.bytes.toString('latin1');
    const at = text.indexOf('2026-11-26T04:53:00.000Z');
    const bytes = Buffer.from(archive.bytes);
    bytes.write('2027', at, 'latin1');
    const err = await openError(bytes, archive.dek);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/failed authentication/);
  });

  it('detects a changed frame size or salt at open', async () => {
    const text = archive.bytes.toString('latin1');
    const frameAt = text.indexOf('"frameSize":4096') + '"frameSize":'.length;
    const bytes = Buffer.from(archive.bytes);
    bytes.write('8192', frameAt, 'latin1');
    expect(await openError(bytes, archive.dek)).toBeInstanceOf(IntegrityError);
    const saltAt = text.indexOf('"streamSalt":"') + '"streamSalt":"'.length;
    const salted = Buffer.from(archive.bytes);
    salted.write(salted[saltAt] === 0x41 ? 'B' : 'A', saltAt, 'latin1');
    expect(await openError(salted, archive.dek)).toBeInstanceOf(IntegrityError);
  });

  it.each([0, 9, 11, 20, 40])('detects a flipped bit at byte %i of the prelude or header', async (offset) => {
    const err = await openError(flip(archive.bytes, offset), archive.dek);
    expect(err).toBeInstanceOf(Error);
    expect(err instanceof IntegrityError || err instanceof UnsupportedError).toBe(true);
  });

  it('detects a flipped bit in every header byte', async () => {
    const length = headerLength(archive.bytes);
    const text = archive.bytes.toString('latin1');
    // The wrapped keys are not bound into the stream key (so they can be re-wrapped); a real
    // unlock rejects altered ones, see 'unlocking' below.
    const keysStart = text.indexOf('"keys":[');
    const keysEnd = text.indexOf('],"streamSalt"');
    let checked = 0;
    for (let offset = PRELUDE_SIZE; offset < PRELUDE_SIZE + length; offset++) {
      if (offset > keysStart + 8 && offset < keysEnd) continue;
      const err = await openError(flip(archive.bytes, offset), archive.dek);
      expect(err, `flip at ${offset}`).toBeInstanceOf(IntegrityError);
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('rejects a header that is not in canonical form', async () => {
    const header = makeHeader();
    const bytes = await sealPayload(header, tablePayload([]), archive.dek);
    const json = bytes.subarray(PRELUDE_SIZE);
    const spaced = Buffer.from(json.toString('latin1').replace('{', '{ '), 'latin1');
    const prelude = Buffer.from(bytes.subarray(0, PRELUDE_SIZE));
    prelude.writeUInt32BE(headerLength(bytes) + 1, 10);
    const err = await openError(Buffer.concat([prelude, spaced]), archive.dek);
    expect((err as Error).message).toMatch(/not in canonical form/);
  });

  it('still authenticates the frames no read touched when verifyPayload follows reads (deep verify)', async () => {
    // b.pem's content starts in frame 3; a.pem lies in frames 0-2 (and the start of 3).
    const bytes = flip(archive.bytes, payloadStart + 4 * SEALED + 100);
    const reader = await openArchive(bytes, archive.dek);
    const a = archive.entries[0]!;
    expect((await readAll(reader.openContent(a.data!))).length).toBe(a.size);
    await expect(reader.verifyPayload()).rejects.toThrow(/frame 4 failed authentication/);
    const intact = await openArchive(archive.bytes, archive.dek);
    expect((await readAll(intact.openContent(a.data!))).length).toBe(a.size);
    expect(await intact.verifyPayload()).toMatchObject({ frames: 7 });
  });

  it('names the bad frame when a content frame is flipped', async () => {
    const bytes = flip(archive.bytes, payloadStart + SEALED + 100);
    const reader = await openArchive(bytes, archive.dek);
    await expect(reader.verifyPayload()).rejects.toThrow(/frame 1 failed authentication/);
    const a = archive.entries[0]!;
    await expect(readAll(reader.openContent(a.data!))).rejects.toThrow(/frame 1 failed authentication/);
    // Entries in untouched frames stay readable.
    const b = archive.entries[1]!;
    expect((await readAll(reader.openContent(b.data!))).length).toBe(b.size);
  });

  it('detects a flipped bit in the footer region and in the last tag', async () => {
    for (const back of [1, TAG_SIZE + 1, TAG_SIZE + 10]) {
      const err = await openError(flip(archive.bytes, archive.bytes.length - back), archive.dek);
      expect(err).toBeInstanceOf(IntegrityError);
    }
  });

  it.each([
    ['inside the prelude', 5],
    ['inside the header', PRELUDE_SIZE + 10],
    ['right after the header', -1],
    ['in the middle of a frame', -2],
    ['at a frame boundary', -3],
    ['one byte short', -4],
  ])('detects truncation %s', async (_where, cut) => {
    const ends: Record<number, number> = {
      [-1]: payloadStart,
      [-2]: payloadStart + SEALED + 200,
      [-3]: payloadStart + 2 * SEALED,
      [-4]: archive.bytes.length - 1,
    };
    const length = cut >= 0 ? cut : ends[cut]!;
    expect(await openError(archive.bytes.subarray(0, length), archive.dek)).toBeInstanceOf(IntegrityError);
  });

  it('detects bytes appended after the last frame', async () => {
    for (const extra of [1, TAG_SIZE, SEALED]) {
      const err = await openError(Buffer.concat([archive.bytes, randomBytes(extra)]), archive.dek);
      expect(err).toBeInstanceOf(IntegrityError);
    }
  });

  it('detects a dropped frame and two swapped frames', async () => {
    const b = archive.bytes;
    const dropped = Buffer.concat([
      b.subarray(0, payloadStart + SEALED),
      b.subarray(payloadStart + 2 * SEALED),
    ]);
    expect(await openError(dropped, archive.dek)).toBeInstanceOf(IntegrityError);
    const swapped = Buffer.concat([
      b.subarray(0, payloadStart),
      b.subarray(payloadStart + SEALED, payloadStart + 2 * SEALED),
      b.subarray(payloadStart, payloadStart + SEALED),
      b.subarray(payloadStart + 2 * SEALED),
    ]);
    const reader = await openArchive(swapped, archive.dek);
    await expect(reader.verifyPayload()).rejects.toThrow(/frame 0 failed authentication/);
  });

  it('refuses a newer format version with UnsupportedError', async () => {
    const bytes = Buffer.from(archive.bytes);
    bytes.writeUInt16BE(2, 8);
    await expect(openArchive(bytes, archive.dek)).rejects.toThrow(UnsupportedError);
    await expect(openArchive(bytes, archive.dek)).rejects.toThrow(
      'archive format version 2 is newer than this tresor (supports 1)',
    );
  });

  it('refuses an oversized header length and a foreign object', async () => {
    const bytes = Buffer.from(archive.bytes);
    bytes.writeUInt32BE(2 * 1024 * 1024, 10);
    await expect(openArchive(bytes, archive.dek)).rejects.toThrow(/header length 2097152 is outside/);
    await expect(openArchive(Buffer.from('PK\x03\x04 not an archive at all'), archive.dek)).rejects.toThrow(
      /bad magic/,
    );
    await expect(openArchive(Buffer.alloc(3), archive.dek)).rejects.toThrow(/too short/);
  });

  it('refuses an archive found under another backup id', async () => {
    await expect(
      openArchive(archive.bytes, archive.dek, { expectedBackupId: 'other-backup' }),
    ).rejects.toThrow(/found where archive other-backup was expected/);
  });
});

describe('hostile entry tables', () => {
  const dek = randomBytes(32);

  it.each(['../x', '/etc/passwd', 'a//b', 'a/./b', 'a\0b', 'a\\..\\b', 'C:/x', ''])(
    'rejects the entry path %j',
    async (path) => {
      const bytes = await sealPayload(
        makeHeader(),
        tablePayload([dirEntry('ok'), { ...dirEntry('x'), path }]),
        dek,
      );
      const reader = await openArchive(bytes, dek);
      const err = await toArray(reader.entries()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as Error).message).toMatch(/entry table line 2: unsafe entry path/);
    },
  );

  it.each([
    ['malformed JSON', '{"path":'],
    ['unknown fields', JSON.stringify({ ...dirEntry('a'), extra: true })],
    ['a file without content', JSON.stringify({ ...dirEntry('a'), type: 'file' })],
    ['a symlink without target', JSON.stringify({ ...dirEntry('a'), type: 'symlink' })],
    ['a negative size', JSON.stringify({ ...dirEntry('a'), size: -1 })],
  ])('rejects %s', async (_what, line) => {
    const bytes = await sealPayload(makeHeader(), tablePayload([line]), dek);
    const reader = await openArchive(bytes, dek);
    await expect(toArray(reader.entries())).rejects.toThrow(/entry table line 1/);
  });

  it('rejects a table that does not end with a newline', async () => {
    const table = Buffer.from(JSON.stringify(dirEntry('a')));
    const payload = Buffer.concat([table, encodeFooter({ offset: 0, length: table.length })]);
    const reader = await openArchive(await sealPayload(makeHeader(), payload, dek), dek);
    await expect(toArray(reader.entries())).rejects.toThrow(/does not end with a newline/);
  });

  it('rejects a footer that points elsewhere', async () => {
    const payload = Buffer.concat([Buffer.from('xx\n'), encodeFooter({ offset: 0, length: 2 })]);
    await expect(openArchive(await sealPayload(makeHeader(), payload, dek), dek)).rejects.toThrow(
      /does not end where the footer starts/,
    );
    const noFooter = Buffer.alloc(30);
    await expect(openArchive(await sealPayload(makeHeader(), noFooter, dek), dek)).rejects.toThrow(
      /bad footer magic/,
    );
  });
});

describe('unlocking', () => {
  const params: KdfParams = {
    alg: 'argon2id',
    memoryKiB: 19 * 1024,
    iterations: 2,
    parallelism: 1,
    salt: randomBytes(16).toString('base64'),
  };

  it('opens with the passphrase and fails with WrongKeyError otherwise', async () => {
    const kek = await PassphraseKek.derive('right', params);
    const dek = randomBytes(32);
    const archive = await writeArchive([{ path: 'k', content: Buffer.from('secret') }], {
      dek,
      keys: [await kek.wrap(dek)],
    });
    const open = (passphrase: string) =>
      ArchiveReader.open(bufferSource(archive.bytes), (keys) =>
        unwrapDataKey(keys, [passphraseUnwrapper(passphrase)]),
      );
    const reader = await open('right');
    expect((await readAll(reader.openContent(archive.entries[0]!.data!))).toString()).toBe('secret');
    await expect(open('wrong')).rejects.toThrow(WrongKeyError);
  });

  it('fails to unlock when the wrapped key in the header is altered', async () => {
    const kek = await PassphraseKek.derive('right', params);
    const dek = randomBytes(32);
    const archive = await writeArchive([{ path: 'k', content: Buffer.from('secret') }], {
      dek,
      keys: [await kek.wrap(dek)],
    });
    const text = archive.bytes.toString('latin1');
    const at = text.indexOf('"ciphertext":"') + '"ciphertext":"'.length;
    const bytes = Buffer.from(archive.bytes);
    bytes.write(bytes[at] === 0x41 ? 'B' : 'A', at, 'latin1');
    const err = await ArchiveReader.open(bufferSource(bytes), (keys) => unwrapDataKey(keys, [kek])).catch(
      (e: unknown) => e,
    );
    expect(err instanceof WrongKeyError || err instanceof IntegrityError).toBe(true);
  });
});
