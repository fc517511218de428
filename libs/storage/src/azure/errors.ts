import { ConflictError, IoError, NotFoundError, TresorError, UnsupportedError } from '@tresor/errors';
import { unreachableCode } from '../remote/network.js';

interface RestErrorLike {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message: string;
}

/** Turns an Azure SDK failure into a TresorError naming the backend and endpoint, never a key or token. */
export function toAzureError(err: unknown, doing: string, endpoint: string): unknown {
  if (err instanceof TresorError) return err;
  const unreachable = unreachableCode(err);
  if (unreachable !== undefined) {
    return new IoError(`${doing}: Azure Blob endpoint ${endpoint} is unreachable (${unreachable})`, {
      cause: err,
    });
  }
  if (!(err instanceof Error) || err.name !== 'RestError') return err;
  const { statusCode, code } = err as RestErrorLike;
  if (code === 'AuthenticationFailed' || code === 'AuthorizationFailure' || statusCode === 401) {
    return new IoError(
      `${doing}: Azure Blob endpoint ${endpoint} refused the credentials (${code ?? statusCode}); check the key, SAS token or connection string of this location`,
      { cause: err },
    );
  }
  if (code === 'ContainerNotFound')
    return new NotFoundError(`${doing}: the container does not exist at ${endpoint}`, { cause: err });
  if (statusCode === 404) return new NotFoundError(`${doing}: no such object`, { cause: err });
  if (code === 'BlobAlreadyExists' || code === 'ConditionNotMet' || statusCode === 412) {
    return new ConflictError(`${doing}: the object already exists; objects are never replaced`, {
      cause: err,
    });
  }
  if (code === 'BlobImmutableDueToPolicy' || code === 'BlobImmutableDueToLegalHold') {
    return new ConflictError(
      `${doing}: refused by the server, the object is under an immutability policy (WORM)`,
      { cause: err },
    );
  }
  if (statusCode === 501 || code === 'FeatureNotSupported') {
    return new UnsupportedError(
      `${doing}: ${endpoint} does not support a setting of this location (${code})`,
      { cause: err },
    );
  }
  return new IoError(`${doing}: ${code ?? 'error'} (HTTP ${statusCode ?? '?'}) from ${endpoint}`, {
    cause: err,
  });
}
