import { IoError, TresorError } from '@tresor/errors';
import { unreachableCode } from '../remote/network.js';

/** Turns an FTP failure into a TresorError naming the server, never the password. */
export function toFtpError(err: unknown, doing: string, endpoint: string): unknown {
  if (err instanceof TresorError) return err;
  const unreachable = unreachableCode(err);
  if (unreachable !== undefined) {
    return new IoError(`${doing}: FTP server ${endpoint} is unreachable (${unreachable})`, { cause: err });
  }
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 530) {
    return new IoError(
      `${doing}: FTP server ${endpoint} refused the credentials (530); check the username and password of this location`,
      {
        cause: err,
      },
    );
  }
  if (/certificate|self[- ]signed|TLS|SSL/i.test(err.message) && typeof code !== 'number') {
    return new IoError(
      `${doing}: TLS with FTP server ${endpoint} failed (${err.message}); set caFile for a private CA`,
      {
        cause: err,
      },
    );
  }
  return new IoError(
    `${doing}: ${typeof code === 'number' ? `${code} ` : ''}${err.message.replace(/\s+/g, ' ')} (${endpoint})`,
    {
      cause: err,
    },
  );
}
