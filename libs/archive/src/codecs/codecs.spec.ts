import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { IntegrityError, UnsupportedError } from '@tresor/errors';
import type { Codec } from '../entry.js';
import { CODECS, compressBuffer, createCompressor, createDecompressor, decompressBuffer } from './index.js';
import { createProcessTransform } from './process-transform.js';

const compressible = Buffer.from(
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n'.repeat(4000),
);
const sample = Buffer.concat([compressible, randomBytes(50_000)]);

function chunked(data: Buffer, size = 16 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function roundTrip(
  codec: Codec,
  level: number,
  data: Buffer,
): Promise<{ compressed: Buffer; restored: Buffer }> {
  const compressed = await buffer(chunked(data).pipe(createCompressor(codec, level)));
  const restored = await buffer(chunked(compressed, 1000).pipe(createDecompressor(codec)));
  return { compressed, restored };
}

async function decompressError(codec: Codec, data: Buffer): Promise<unknown> {
  return pipeline(chunked(data), createDecompressor(codec), async (source: AsyncIterable<Buffer>) => {
    for await (const _chunk of source) {
      // drain
    }
  }).then(
    () => undefined,
    (err: unknown) => err,
  );
}

const cases = Object.entries(CODECS).flatMap(([codec, l]) =>
  [...new Set([l.minLevel, l.defaultLevel, l.maxLevel])].map((level) => [codec as Codec, level] as const),
);

describe('codecs', () => {
  it.each(cases)('%s at level %i round-trips', async (codec, level) => {
    const { compressed, restored } = await roundTrip(codec, level, sample);
    expect(createHash('sha256').update(restored).digest('hex')).toBe(
      createHash('sha256').update(sample).digest('hex'),
    );
    if (codec !== 'none') expect(compressed.length).toBeLessThan(sample.length);
  });

  it.each(Object.keys(CODECS) as Codec[])('%s round-trips empty and 1-byte content', async (codec) => {
    const level = CODECS[codec].defaultLevel;
    expect((await roundTrip(codec, level, Buffer.alloc(0))).restored.length).toBe(0);
    expect((await roundTrip(codec, level, Buffer.from('x'))).restored.toString()).toBe('x');
  });

  it.each((Object.keys(CODECS) as Codec[]).filter((c) => c !== 'none'))(
    '%s reports corrupt and truncated input as IntegrityError',
    async (codec) => {
      const { compressed } = await roundTrip(codec, CODECS[codec].defaultLevel, sample);
      const flipped = Buffer.from(compressed);
      for (let i = 20; i < 60; i++) flipped[i]! ^= 0x5a;
      const corrupt = await decompressError(codec, flipped);
      expect(corrupt).toBeInstanceOf(IntegrityError);
      expect((corrupt as Error).message).toMatch(new RegExp(`^corrupt ${codec} data: `));
      expect(await decompressError(codec, compressed.subarray(0, compressed.length >> 1))).toBeInstanceOf(
        IntegrityError,
      );
      expect(await decompressError(codec, Buffer.from('definitely not compressed data'))).toBeInstanceOf(
        IntegrityError,
      );
    },
  );

  it('keeps upstream errors as they are', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    const err = await pipeline(failing, createDecompressor('gzip'), async (source: AsyncIterable<Buffer>) => {
      for await (const _chunk of source) {
        // drain
      }
    }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toBe('disk on fire');
  });

  it('reports a missing compression program as UnsupportedError', async () => {
    const stream = createProcessTransform({
      codec: 'bzip2',
      direction: 'compress',
      program: 'tresor-no-such-program',
      args: [],
    });
    const err = await pipeline(
      Readable.from([Buffer.from('x')]),
      stream,
      async (source: AsyncIterable<Buffer>) => {
        for await (const _chunk of source) {
          // drain
        }
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/bzip2 needs the 'tresor-no-such-program' program/);
  });

  it('streams large input through an external program with backpressure', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const { restored } = await roundTrip('bzip2', 1, big);
    expect(restored.equals(big)).toBe(true);
  });
});

describe('one-shot compression of small content', () => {
  const content = Buffer.from('-----BEGIN PRIVATE KEY-----\n'.repeat(40));

  for (const codec of ['none', 'gzip', 'brotli', 'zstd'] as const) {
    it(`${codec}: decompressBuffer undoes compressBuffer`, () => {
      const compressed = compressBuffer(codec, CODECS[codec].defaultLevel, content)!;
      expect(decompressBuffer(codec, compressed, content.length)).toEqual(content);
    });
  }

  for (const codec of ['gzip', 'brotli'] as const) {
    it(`${codec}: never inflates past the expected size (a lying entry cannot balloon)`, () => {
      const compressed = compressBuffer(codec, CODECS[codec].defaultLevel, Buffer.alloc(10 * 1024 * 1024))!;
      expect(() => decompressBuffer(codec, compressed, 100)).toThrow(IntegrityError);
    });
  }

  it('zstd: declines (so the caller streams and checks) when the frame declares another size', () => {
    const compressed = compressBuffer('zstd', 3, content)!;
    expect(decompressBuffer('zstd', compressed, content.length - 1)).toBeUndefined();
    let outcome: unknown;
    try {
      outcome = decompressBuffer('zstd', Buffer.from('not zstd at all'), 10);
    } catch (err) {
      outcome = err;
    }
    expect(outcome === undefined || outcome instanceof IntegrityError).toBe(true);
  });

  it('xz and bzip2 have no one-shot path', () => {
    expect(compressBuffer('xz', 6, content)).toBeUndefined();
    expect(decompressBuffer('bzip2', Buffer.alloc(10), 10)).toBeUndefined();
  });
});
