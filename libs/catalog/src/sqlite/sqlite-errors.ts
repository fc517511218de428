import { IntegrityError, IoError, TresorError } from '@tresor/errors';

/** True when `err` is a better-sqlite3 error whose code starts with `prefix` (e.g. SQLITE_CONSTRAINT). */
export function isSqliteError(err: unknown, prefix: string): err is Error & { code: string } {
  return err instanceof Error && err.name === 'SqliteError' && sqliteCode(err).startsWith(prefix);
}

function sqliteCode(err: Error): string {
  const { code } = err as Error & { code?: unknown };
  return typeof code === 'string' ? code : '';
}

/** Turns a SQLite failure into the Tresor error an operator can act on; others pass through. */
export function toCatalogError(err: unknown, file: string, doing: string): unknown {
  if (err instanceof TresorError || !(err instanceof Error) || err.name !== 'SqliteError') return err;
  const code = sqliteCode(err);
  const fail = (message: string, kind: typeof IoError = IoError): TresorError =>
    new kind(`${doing}: ${message}`, { cause: err });
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return fail(`catalog ${file} is locked by another process; try again when it is done`);
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return fail(
      `catalog ${file} is corrupt or not a SQLite database; \`tresor catalog rebuild\` recreates it`,
      IntegrityError,
    );
  }
  if (code === 'SQLITE_FULL') return fail(`no space left for catalog ${file}`);
  if (code.startsWith('SQLITE_READONLY')) return fail(`catalog ${file} is read-only`);
  if (code.startsWith('SQLITE_CANTOPEN')) return fail(`cannot open catalog ${file}`);
  if (code.startsWith('SQLITE_IOERR')) return fail(`input/output error on catalog ${file} (${code})`);
  if (code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH'))
    return fail(`permission denied on catalog ${file}`);
  return fail(`catalog ${file}: ${err.message} (${code})`);
}
