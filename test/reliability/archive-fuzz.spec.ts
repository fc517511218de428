import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, serializeManifest, signManifest, verifyManifest } from '@tresor/archive';
import type { Entry, Manifest, UnsignedManifest } from '@tresor/archive';
import { canonicalJson } from '@tresor/crypto';
import { IntegrityError, TresorError } from '@tresor/errors';
import {
  BACKUP_ID,
  fileMeta,
  makeHeader,
  openArchive,
  removeTmpDirs,
  sealPayload,
  tablePayload,
  writeArchive,
} from '../../libs/archive/src/archive.fixtures.js';
import type { WrittenArchive } from '../../libs/archive/src/archive.fixtures.js';

/**
 * Hostile input to the archive reader and the manifest parser: a seeded mutation loop (bit flips,
 * truncations, extensions, splices, zeroed runs, inflated length fields) over valid archives and
 * manifests, and hostile entry tables sealed with the right key (what someone holding a data key
 * could build). Every case must end in a clean TresorError or in exactly the original data; never
 * another exception, a hang, a huge allocation, or an entry whose path leaves the restore target.
 * Short by default (1000 cases a family); TRESOR_RELIABILITY_LONG=1 runs 50 000.
 */
const LONG = process.env.TRESOR_RELIABILITY_LONG === '1';
const CASES = LONG ? 50_000 : 1000;
const SEED = Number(process.env.TRESOR_FUZZ_SEED ?? 0x7e50);
/** Generous: the machine is shared; a hang is minutes, not seconds. */
const CASE_TIMEOUT_MS = 30_000;
/** More than any case may allocate: the largest input is well under 1 MiB. */
const MEMORY_BUDGET = 512 * 1024 * 1024;

/** mulberry32: small, fast, reproducible from the seed printed on failure. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)]!;

/** One random mutation of `bytes`, and what it was (for the failure message). */
function mutate(rand: Rand, bytes: Buffer, donor: Buffer): { bytes: Buffer; what: string } {
  const kind = pick(rand, ['flip', 'flip', 'truncate', 'extend', 'splice', 'zero', 'inflate', 'prelude'] as const);
  const copy = Buffer.from(bytes);
  switch (kind) {
    case 'flip': {
      const n = 1 + int(rand, 8);
      const at: number[] = [];
      for (let i = 0; i < n; i++) {
        const offset = int(rand, copy.length);
        copy[offset]! ^= 1 << int(rand, 8);
        at.push(offset);
      }
      return { bytes: copy, what: `flip bits at ${at.join(',')}` };
    }
    case 'truncate': {
      const length = int(rand, copy.length);
      return { bytes: copy.subarray(0, length), what: `truncate to ${length}` };
    }
    case 'extend': {
      const extra = randomBytes(1 + int(rand, 5000));
      return { bytes: Buffer.concat([copy, extra]), what: `extend by ${extra.length}` };
    }
    case 'splice': {
      const from = int(rand, donor.length);
      const length = 1 + int(rand, Math.min(8192, donor.length - from));
      const to = int(rand, copy.length);
      donor.copy(copy, to, from, from + length);
      return { bytes: copy, what: `splice ${length} bytes from donor ${from} to ${to}` };
    }
    case 'zero': {
      const from = int(rand, copy.length);
      const length = 1 + int(rand, 4096);
      copy.fill(0, from, Math.min(copy.length, from + length));
      return { bytes: copy, what: `zero ${length} bytes at ${from}` };
    }
    case 'inflate': {
      // The header length field (prelude offset 10) and any other 32-bit word of the prelude.
      const value = pick(rand, [0xffffffff, 0x7fffffff, 0x10000000, copy.length, copy.length + 1, 0]);
      const offset = pick(rand, [10, 10, 6, 14, int(rand, Math.max(1, copy.length - 4))]);
      copy.writeUInt32BE(value >>> 0, Math.min(offset, copy.length - 4));
      return { bytes: copy, what: `write u32 ${value} at ${offset}` };
    }
    case 'prelude': {
      const offset = int(rand, Math.min(16, copy.length));
      copy[offset] = int(rand, 256);
      return { bytes: copy, what: `set prelude byte ${offset}` };
    }
  }
}

/** True for a path that a restore would write outside its target. */
function escapes(path: string): boolean {
  return path.startsWith('/') || path.split('/').some((s) => s === '..' || s === '' || s === '.') || /[\0\\]/.test(path);
}

/** Reads a stream, giving up (as a finding) once it yields more than `limit` bytes. */
async function drain(stream: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      stream.destroy();
      throw new Error(`content stream yielded more than ${limit} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Everything a restore does with an archive: open, list, read each content, check the payload. */
async function exercise(bytes: Buffer, dek: Buffer, entriesRoot?: string): Promise<Map<string, Buffer>> {
  const reader = await openArchive(bytes, dek, entriesRoot === undefined ? {} : { expectedEntriesRoot: entriesRoot });
  const contents = new Map<string, Buffer>();
  const entries: Entry[] = [];
  for await (const entry of reader.entries()) {
    if (escapes(entry.path)) throw new Error(`reader yielded an unsafe path ${JSON.stringify(entry.path)}`);
    entries.push(entry);
  }
  for (const entry of entries) {
    if (entry.type !== 'file' || !entry.data) continue;
    const content = await drain(reader.openContent(entry.data, entry.size), entry.size + 1024 * 1024);
    // What restore and deep verify do with every content before it gets its name.
    if (content.length !== entry.size || createHash('sha256').update(content).digest('hex') !== entry.sha256) {
      throw new IntegrityError(`entry ${entry.path}: content does not match its recorded size and SHA-256`);
    }
    contents.set(entry.path, content);
  }
  await reader.verifyPayload();
  return contents;
}

interface Tally {
  cases: number;
  cleanErrors: number;
  unchanged: number;
  errorCodes: Map<string, number>;
  failures: string[];
  peakRss: number;
}

async function runCase(tally: Tally, what: string, work: () => Promise<'unchanged' | void>): Promise<void> {
  tally.cases++;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CASE_TIMEOUT_MS} ms (hang)`)), CASE_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([work(), hang]);
    if (outcome === 'unchanged') tally.unchanged++;
    else tally.failures.push(`${what}: accepted, with data other than the original`);
  } catch (err) {
    if (err instanceof TresorError) {
      tally.cleanErrors++;
      tally.errorCodes.set(err.code, (tally.errorCodes.get(err.code) ?? 0) + 1);
    } else {
      tally.failures.push(`${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  } finally {
    clearTimeout(timer);
    tally.peakRss = Math.max(tally.peakRss, process.memoryUsage().rss);
  }
}

const newTally = (): Tally => ({ cases: 0, cleanErrors: 0, unchanged: 0, errorCodes: new Map(), failures: [], peakRss: 0 });
const figures: Record<string, unknown> = {};

const sameContents = (a: Map<string, Buffer>, b: Map<string, Buffer>) =>
  a.size === b.size && [...a].every(([path, content]) => b.get(path)?.equals(content));

describe('hostile input: archive reader and manifest parser', () => {
  let archive: WrittenArchive;
  let original: Map<string, Buffer>;
  let donor: Buffer;
  const baselineRss = process.memoryUsage().rss;

  beforeAll(async () => {
    const files = [
      { path: 'tls/server.key', content: randomBytes(3000), codec: 'none' as const, level: 0 },
      { path: 'tls/server.crt', content: Buffer.from('-----BEGIN CERTIFICATE-----\n'.repeat(200)), codec: 'zstd' as const },
      { path: 'secrets.json', content: Buffer.from(JSON.stringify({ a: 'b'.repeat(9000) })), codec: 'gzip' as const, level: 6 },
      { path: 'keystore.bin', content: randomBytes(20_000), codec: 'zstd' as const },
      { path: 'empty', content: Buffer.alloc(0) },
    ];
    archive = await writeArchive(files, { frameSize: 4096 });
    original = await exercise(archive.bytes, archive.dek, archive.summary.entriesRoot);
    donor = (await writeArchive(files, { frameSize: 4096 })).bytes;
  });
  afterAll(async () => {
    await removeTmpDirs();
    console.log(`archive-fuzz figures (seed ${SEED}): ${JSON.stringify(figures)}`);
  });

  it(`mutated archives (${CASES} cases): a clean error or the original data`, { timeout: 60 * 60_000 }, async () => {
    const rand = prng(SEED);
    const tally = newTally();
    for (let i = 0; i < CASES; i++) {
      const { bytes, what } = mutate(rand, archive.bytes, donor);
      // With and without the signed entries root: a reader without a manifest must be as careful.
      const root = i % 2 === 0 ? archive.summary.entriesRoot : undefined;
      await runCase(tally, `case ${i} (${what})`, async () =>
        sameContents(await exercise(bytes, archive.dek, root), original) ? 'unchanged' : undefined,
      );
    }
    figures.archives = summary(tally);
    expect(tally.failures).toEqual([]);
    expect(tally.peakRss - baselineRss).toBeLessThan(MEMORY_BUDGET);
    expect(tally.cleanErrors).toBeGreaterThan(CASES * 0.9);
  });

  it(`hostile entry tables sealed with the right key (${CASES} cases): nothing unsafe gets out`, { timeout: 60 * 60_000 }, async () => {
    const rand = prng(SEED ^ 0x5eed);
    const tally = newTally();
    const content = randomBytes(5000);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const good = { ...fileMeta('a/key.pem', content.length), sha256, data: { backupId: BACKUP_ID, offset: 0, length: content.length, codec: 'none' } };
    const hostilePaths = [
      '../escape', '/etc/passwd', 'a/../../b', './a', 'a//b', 'a/', 'a\\..\\b', 'a\u0000b', '\u001b[2Jterm', 'con\ntrol',
      '.', '..', '', 'x'.repeat(5000), `${'d/'.repeat(3000)}f`, 'a/\u202ecod.exe', 'ok/../../../../tmp/x',
    ];
    const hostileNumbers = [-1, 2 ** 53, 2 ** 53 + 2, 1e308, 0.5, Number.MAX_SAFE_INTEGER, 0xffffffff, -0];
    const fields = ['path', 'type', 'mode', 'size', 'uid', 'mtimeNs', 'sha256', 'data', 'linkTarget', 'ino'] as const;
    for (let i = 0; i < CASES; i++) {
      const entry: Record<string, unknown> = structuredClone(good);
      const what: string[] = [];
      for (let n = 1 + int(rand, 3); n > 0; n--) {
        const field = pick(rand, fields);
        const roll = rand();
        if (field === 'path' || field === 'linkTarget') entry[field] = pick(rand, hostilePaths);
        else if (field === 'data') {
          const data = { ...(entry.data as object) } as Record<string, unknown>;
          data[pick(rand, ['offset', 'length'])] = pick(rand, hostileNumbers);
          if (roll < 0.3) data.codec = pick(rand, ['zstd', 'xz', 'rot13', 7]);
          entry.data = data;
        } else if (field === 'type') entry.type = pick(rand, ['symlink', 'dir', 'hardlink', 'device', 'fifo', 1]);
        else if (roll < 0.2) delete entry[field];
        else entry[field] = pick(rand, hostileNumbers);
        what.push(`${field}=${JSON.stringify(entry[field])?.slice(0, 40)}`);
      }
      const lines: unknown[] = [good, entry];
      if (rand() < 0.2) lines.push(entry); // a duplicate
      if (rand() < 0.2) lines.reverse(); // out of order
      if (rand() < 0.1) lines.push('{"path":'); // a torn line
      if (rand() < 0.1) lines.push(`[${'['.repeat(100_000)}`); // deep nesting
      let payload = tablePayload(lines, content);
      if (rand() < 0.15) {
        // An inflated footer: the table said to be far larger than the payload.
        payload = Buffer.from(payload);
        payload.writeUInt32BE(0xffffffff, payload.length - 12 + int(rand, 8));
        what.push('footer inflated');
      }
      const bytes = await sealPayload(makeHeader({ frameSize: 4096 }), payload, archive.dek);
      await runCase(tally, `table case ${i} (${what.join('; ')})`, async () => {
        const contents = await exercise(bytes, archive.dek);
        // Accepted: then only with content exactly as stored and no unsafe path (checked in exercise).
        const got = contents.get((entry.path as string) ?? '');
        if (got !== undefined && !got.equals(content)) throw new Error('accepted an entry whose content is not what was stored');
        return 'unchanged';
      });
    }
    figures.tables = summary(tally);
    expect(tally.failures).toEqual([]);
    expect(tally.peakRss - baselineRss).toBeLessThan(MEMORY_BUDGET);
  });

  it('a decompression bomb (64 MiB of zeros said to be 10 bytes) is refused without inflating it', { timeout: 10 * 60_000 }, async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const entry = { ...fileMeta('bomb.key', 10), sha256: 'ab'.repeat(32), data: { backupId: BACKUP_ID, offset: 0, length: bomb.length, codec: 'gzip' } };
    const bytes = await sealPayload(makeHeader({ frameSize: 4096 }), tablePayload([entry], bomb), archive.dek);
    const tally = newTally();
    await runCase(tally, 'zstd bomb', async () => {
      await exercise(bytes, archive.dek);
      return 'unchanged';
    });
    figures.bomb = summary(tally);
    expect(tally.failures).toEqual([]);
    expect(tally.cleanErrors).toBe(1);
  });

  it(`mutated manifests (${CASES * 3} cases): rejected unless the signed content is unchanged`, { timeout: 60 * 60_000 }, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const unsigned: UnsignedManifest = {
      formatVersion: 1,
      repositoryId: 'c0ffee00-0000-4000-8000-000000000001',
      backupId: BACKUP_ID,
      source: { id: 'src-1', kind: 'filesystem', location: '/etc/keys' },
      level: 'full',
      parentId: null,
      createdAt: '2026-11-26T04:53:00.000Z',
      completedAt: '2026-11-26T04:53:01.000Z',
      tags: ['nightly'],
      archive: { key: `archives/${BACKUP_ID}.tra`, sha256: createHash('sha256').update(archive.bytes).digest('hex'), size: archive.summary.objectBytes },
      entriesRoot: archive.summary.entriesRoot,
      entryCount: archive.summary.entryCount,
      dataBackupIds: [BACKUP_ID],
      stats: { files: 5, dirs: 0, symlinks: 0, bytesIn: 1, bytesStored: 1, reusedFiles: 0 },
    } as UnsignedManifest;
    const manifest = signManifest(unsigned, privatePem, 'test-key');
    const bytes = Buffer.from(serializeManifest(manifest));
    // signature.keyId is a hint that the signature does not cover (the key is the repository's,
    // and the catalog's manifest hash catches any change to it): the rest must be unchanged.
    const signedContent = (m: Manifest) => canonicalJson({ ...m, signature: { ...m.signature, keyId: undefined } });
    const reference = signedContent(manifest);
    const rand = prng(SEED ^ 0x3a11);
    const tally = newTally();
    const weird = [null, -1, 2 ** 64, '', 'x'.repeat(100_000), [], {}, true, '../../etc', '\u0000', { __proto__: { polluted: 1 } }];
    const check = (input: Buffer | string): Manifest => {
      const parsed = parseManifest(input);
      verifyManifest(parsed, publicPem);
      return parsed;
    };
    for (let i = 0; i < CASES * 3; i++) {
      let input: Buffer | string;
      let what: string;
      if (i % 3 === 0) {
        ({ bytes: input, what } = mutate(rand, bytes, bytes));
      } else if (i % 3 === 1) {
        // A structural change: one field (at any depth) replaced by a strange value.
        const doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
        const path: string[] = [];
        let node: Record<string, unknown> = doc;
        for (;;) {
          const key = pick(rand, Object.keys(node));
          path.push(key);
          const next = node[key];
          if (next && typeof next === 'object' && !Array.isArray(next) && rand() < 0.5) node = next as Record<string, unknown>;
          else {
            node[key] = pick(rand, weird);
            break;
          }
        }
        input = JSON.stringify(doc);
        what = `set ${path.join('.')}`;
      } else {
        input = pick(rand, [
          '', 'null', '[]', '"manifest"', '{"formatVersion":2}', '{"formatVersion":1e400}', `${'['.repeat(200_000)}`,
          `{"a":"${'x'.repeat(5 * 1024 * 1024)}"}`, Buffer.from([0xff, 0xfe, 0x00, 0x7b]), '{"__proto__":{"admin":true}}',
        ]);
        what = `fixed input ${i}`;
      }
      const label = `manifest case ${i} (${what})`;
      tally.cases++;
      try {
        const parsed = check(input);
        if (signedContent(parsed) === reference) tally.unchanged++;
        else tally.failures.push(`${label}: a changed manifest verified`);
      } catch (err) {
        if (err instanceof TresorError) {
          tally.cleanErrors++;
          tally.errorCodes.set(err.code, (tally.errorCodes.get(err.code) ?? 0) + 1);
        } else tally.failures.push(`${label}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      }
      tally.peakRss = Math.max(tally.peakRss, process.memoryUsage().rss);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    figures.manifests = summary(tally);
    expect(tally.failures).toEqual([]);
  });
});

function summary(tally: Tally) {
  return {
    cases: tally.cases,
    cleanErrors: tally.cleanErrors,
    unchanged: tally.unchanged,
    failures: tally.failures.length,
    codes: Object.fromEntries(tally.errorCodes),
    peakRssMiB: Math.round(tally.peakRss / 1024 / 1024),
  };
}
