import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { registerSecret } from '@tresor/errors';

/** A cached session for one gateway URL. */
export interface CachedSession {
  accessToken: string;
  refreshToken: string;
  /** ISO time the access token expires. */
  expiresAt: string;
  username: string;
}

/** `$XDG_CONFIG_HOME/tresor/credentials.json` (default ~/.config): sessions by gateway URL, mode 0600. */
export function credentialsFile(): string {
  const configHome = process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return join(configHome, 'tresor', 'credentials.json');
}

const key = (url: string): string => url.replace(/\/+$/, '');

function readAll(): Record<string, CachedSession> {
  const file = credentialsFile();
  if (!existsSync(file)) return {};
  try {
    const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, CachedSession>;
    // Cached session tokens are bearer credentials: keep them out of every message this process prints.
    for (const s of Object.values(all)) {
      registerSecret(s.accessToken);
      registerSecret(s.refreshToken);
    }
    return all;
  } catch {
    // A damaged cache only means logging in again.
    return {};
  }
}

function writeAll(all: Record<string, CachedSession>): void {
  const file = credentialsFile();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  // The mode of an existing file is not changed by writeFile's mode: set it explicitly.
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The cached session for a gateway, if any. */
export function cachedSession(url: string): CachedSession | undefined {
  return readAll()[key(url)];
}

/** Stores (or replaces) the session for a gateway. */
export function saveSession(url: string, session: CachedSession): void {
  writeAll({ ...readAll(), [key(url)]: session });
}

/** Forgets the session for a gateway. */
export function forgetSession(url: string): void {
  const all = readAll();
  if (!(key(url) in all)) return;
  delete all[key(url)];
  writeAll(all);
}
