import type { TransformCallback } from 'node:stream';
import { CompressStream, Compressor, DecompressStream } from 'zstd-napi';
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

/** Zstandard through zstd-napi's streaming bindings, with the frame checksum on (as the zstd CLI does). */
export const zstdCodec: CodecImpl = {
  compressor: (level) => new CompressStream({ compressionLevel: level, checksumFlag: true }),
  compressBuffer,
  decompressor: () => new ZstdDecompressor(),
};
