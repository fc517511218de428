import type { TransformCallback } from 'node:stream';
import { createRequire } from 'node:module';
import { CompressStream, Compressor, DecompressStream, Decompressor } from 'zstd-napi';
import type { CodecImpl } from './codec-impl.js';
import { corruptData } from './corrupt-data.js';

/** zstd-napi reports bad input through its transform callbacks; this reports it as IntegrityError. */
class ZstdDecompressor extends DecompressStream {
  override _transform(chunk: unknown, encoding: string, done: TransformCallback): void {
    super._transform(chunk, encoding, (err, data) =>
      err ? done(corruptData('zstd', err)) : done(null, data),
    );
  }

  override _flush(done: TransformCallback): void {
    super._flush((err, data) => (err ? done(corruptData('zstd', err)) : done(null, data)));
  }
}

/** One reusable context per level: creating a zstd context costs more than compressing a key file. */
const contexts = new Map<number, Compressor>();

function compressBuffer(content: Buffer, level: number): Buffer {
  let context = contexts.get(level);
  if (!context) {
    context = new Compressor();
    context.setParameters({ compressionLevel: level, checksumFlag: true });
    contexts.set(level, context);
  }
  return context.compress(content);
}

// The frame header check lives in the native binding, which has no ESM entry point.
const binding = createRequire(import.meta.url)('zstd-napi/binding') as {
  getFrameContentSize(frame: Uint8Array): number | null;
};
let decompressor: Decompressor | undefined;

/** Decompresses in one call only frames that declare exactly the expected size. */
function decompressBuffer(compressed: Buffer, expectedSize: number): Buffer | undefined {
  let declared: number | null;
  try {
    declared = binding.getFrameContentSize(compressed);
  } catch (err) {
    throw corruptData('zstd', err);
  }
  if (declared !== expectedSize) return undefined;
  decompressor ??= new Decompressor();
  try {
    return decompressor.decompress(compressed);
  } catch (err) {
    throw corruptData('zstd', err);
  }
}

/** Zstandard through zstd-napi's streaming bindings, with the frame checksum on (as the zstd CLI does). */
export const zstdCodec: CodecImpl = {
  compressor: (level) => new CompressStream({ compressionLevel: level, checksumFlag: true }),
  compressBuffer,
  decompressor: () => new ZstdDecompressor(),
  decompressBuffer,
};
