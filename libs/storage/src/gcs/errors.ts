import { ConflictError, IoError, NotFoundError, TresorError } from '@tresor/errors';
import { unreachableCode } from '../remote/network.js';

/** Turns a GCS client failure into a TresorError naming the backend and endpoint, never a key. */
export function toGcsError(err: unknown, doing: string, endpoint: string): unknown {
  if (err instanceof TresorError) return err;
  const unreachable = unreachableCode(err);
  if (unreachable !== undefined) {
    return new IoError(`${doing}: GCS endpoint ${endpoint} is unreachable (${unreachable})`, { cause: err });
  }
  // The resumable uploader rejects with plain objects ({ code, message }), not Errors.
  if (typeof err !== 'object' || err === null) return err;
  const code = (err as { code?: unknown }).code;
  const message = String((err as { message?: unknown }).message ?? '');
  if (code === 401 || code === 403) {
    return new IoError(
      `${doing}: GCS endpoint ${endpoint} refused the credentials (HTTP ${code}); check the keyFile of this location`,
      { cause: err },
    );
  }
  if (code === 404)
    return new NotFoundError(`${doing}: no such object or bucket at ${endpoint}`, { cause: err });
  if (code === 412) {
    return new ConflictError(`${doing}: the object already exists; objects are never replaced`, {
      cause: err,
    });
  }
  if (typeof code === 'number') {
    return new IoError(`${doing}: HTTP ${code} from ${endpoint}: ${message}`, { cause: err });
  }
  return err;
}
