import { IntegrityError, IoError, TresorError } from '@tresor/errors';
import { unreachableCode } from '../remote/network.js';

/** Turns an SSH/SFTP failure into a TresorError naming the server, never a key or password. */
export function toSftpError(err: unknown, doing: string, endpoint: string): unknown {
  if (err instanceof TresorError) return err;
  const unreachable = unreachableCode(err);
  if (unreachable !== undefined) {
    return new IoError(`${doing}: SFTP server ${endpoint} is unreachable (${unreachable})`, { cause: err });
  }
  if (!(err instanceof Error)) return err;
  if (/host denied|verification failed/i.test(err.message)) {
    return new IntegrityError(
      `${doing}: the host key of SFTP server ${endpoint} does not match the pinned key (hostKey or knownHostsFile); refusing to connect`,
      { cause: err },
    );
  }
  if (/authentication methods failed|authentication failed/i.test(err.message)) {
    return new IoError(
      `${doing}: SFTP server ${endpoint} refused the credentials; check the key or password of this location`,
      {
        cause: err,
      },
    );
  }
  if (/timed out/i.test(err.message))
    return new IoError(`${doing}: SFTP server ${endpoint} timed out`, { cause: err });
  return new IoError(`${doing}: ${err.message.replace(/\s+/g, ' ')}`, { cause: err });
}
