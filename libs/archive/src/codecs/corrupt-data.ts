import { IntegrityError, TresorError } from '@tresor/errors';
import type { Transform } from 'node:stream';
import type { Codec } from '../entry.js';

/** The error a decompressor reports for input it cannot decode. */
export function corruptData(codec: Codec, cause: unknown): IntegrityError {
  const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new IntegrityError(`corrupt ${codec} data: ${detail}`, { cause });
}

// zlib codes its own failures Z_*; brotli decoder failures come out as ERR__ERROR_*.
const ZLIB_FAILURE = /^(Z_|ERR__ERROR_|ERR_BROTLI)/;

/**
 * Makes a zlib decompressor fail with IntegrityError on undecodable input. zlib reports errors
 * by destroying itself, so the mapping sits in _destroy; errors that reach it from elsewhere (a
 * pipeline tearing down) keep their own type.
 */
export function withZlibIntegrityErrors<T extends Transform>(stream: T, codec: Codec): T {
  const destroy = stream._destroy.bind(stream);
  stream._destroy = (error, callback) => {
    destroy(error, (err) => callback(isZlibFailure(err) ? corruptData(codec, err) : err));
  };
  return stream;
}

function isZlibFailure(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof TresorError) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && ZLIB_FAILURE.test(code);
}
