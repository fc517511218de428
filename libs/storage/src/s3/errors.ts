import { ConflictError, IoError, NotFoundError, TresorError, UnsupportedError } from '@tresor/errors';
import { isTimeout, unreachableCode } from '../remote/network.js';
import { ColdObjectError } from '../tiering/storage-class.js';
import { s3OfflineClasses } from './config.js';

interface S3ServiceError {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: { httpStatusCode?: number };
}

const credentialErrors = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
]);

/**
 * Turns an S3 SDK failure into a TresorError that names the backend, the endpoint and the object,
 * never a credential. `doing` is "cannot store object k in s3://…".
 */
export function toS3Error(err: unknown, doing: string, endpoint: string): unknown {
  if (err instanceof TresorError) return err;
  if (isTimeout(err)) {
    return new IoError(
      `${doing}: S3 endpoint ${endpoint} did not answer within the location's timeoutSeconds (black-holed or overloaded)`,
      { cause: err },
    );
  }
  const unreachable = unreachableCode(err);
  if (unreachable !== undefined) {
    return new IoError(`${doing}: S3 endpoint ${endpoint} is unreachable (${unreachable})`, { cause: err });
  }
  if (!(err instanceof Error) || !('$metadata' in err)) return err;
  const { name, message } = err as S3ServiceError;
  const status = (err as S3ServiceError).$metadata?.httpStatusCode;
  if (credentialErrors.has(name)) {
    return new IoError(
      `${doing}: S3 endpoint ${endpoint} refused the credentials (${name}); check the access key settings of this location`,
      { cause: err },
    );
  }
  if (name === 'NoSuchBucket')
    return new NotFoundError(`${doing}: the bucket does not exist at ${endpoint}`, { cause: err });
  if (name === 'NoSuchKey' || status === 404)
    return new NotFoundError(`${doing}: no such object`, { cause: err });
  if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412) {
    return new ConflictError(`${doing}: the object already exists; objects are never replaced`, {
      cause: err,
    });
  }
  if (isRetentionRefusal(name, message)) {
    return new ConflictError(`${doing}: refused by the server, the object is under retention (WORM)`, {
      cause: err,
    });
  }
  if (/object lock/i.test(message) && /(missing|not enabled|configuration)/i.test(message)) {
    return new UnsupportedError(`${doing}: the bucket has no Object Lock, so retention cannot be set`, {
      cause: err,
    });
  }
  if (name === 'InvalidStorageClass') {
    return new UnsupportedError(`${doing}: ${endpoint} does not offer this storage class (${name})`, {
      cause: err,
    });
  }
  if (name === 'NotImplemented' || status === 501) {
    return new UnsupportedError(
      `${doing}: ${endpoint} does not support a setting of this location: ${message}`,
      { cause: err },
    );
  }
  if (name === 'AccessDenied' || status === 403) {
    return new IoError(`${doing}: access denied by ${endpoint} (${name})`, { cause: err });
  }
  return new IoError(`${doing}: ${name}${status ? ` (HTTP ${status})` : ''} from ${endpoint}: ${message}`, {
    cause: err,
  });
}

/** AWS answers 403 AccessDenied to a delete under retention, MinIO 400 InvalidRequest "Object is WORM protected". */
function isRetentionRefusal(name: string, message: string): boolean {
  return (
    /WORM|retention|object lock|legal hold/i.test(message) &&
    (name === 'AccessDenied' || name === 'InvalidRequest')
  );
}

/**
 * A read S3 refused with InvalidObjectState: a ColdObjectError when the object is in GLACIER or
 * DEEP_ARCHIVE (the class from the error, else from a HEAD), saying whether a restore is running
 * (`x-amz-restore: ongoing-request="true"`); anything else as `toS3Error`.
 */
export function toS3ColdReadError(
  err: unknown,
  key: string,
  location: string,
  endpoint: string,
  head?: { storageClass?: string; restore?: string },
): unknown {
  const storageClass = (err as { StorageClass?: string }).StorageClass ?? head?.storageClass;
  if (
    (err as Error).name !== 'InvalidObjectState' ||
    storageClass === undefined ||
    !s3OfflineClasses.includes(storageClass)
  )
    return toS3Error(err, `cannot read object ${key} in ${location}`, endpoint);
  const running = head?.restore?.includes('ongoing-request="true"') ?? false;
  return new ColdObjectError(key, location, storageClass, running ? 'restore-in-progress' : 'needs-restore', {
    cause: err,
  });
}
