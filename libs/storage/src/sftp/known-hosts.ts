import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '@tresor/errors';

/** The raw key blob of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`). */
export function keyBlobOf(line: string): Buffer {
  const base64 = line.trim().split(/\s+/)[1];
  if (base64 === undefined || !/^[A-Za-z0-9+/]+=*$/.test(base64)) {
    throw new UsageError('sftp hostKey is not an OpenSSH public key line ("ssh-ed25519 AAAA...")');
  }
  return Buffer.from(base64, 'base64');
}

/**
 * The host keys a known_hosts file lists for host:port, plain or hashed (`|1|salt|hash`), as
 * OpenSSH writes them (`host` for port 22, `[host]:port` otherwise). Revoked and CA lines are ignored.
 */
export async function knownHostKeys(file: string, host: string, port: number): Promise<Buffer[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `sftp knownHostsFile ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const name = port === 22 ? host : `[${host}]:${port}`;
  const keys: Buffer[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) continue;
    const [patterns, type, base64] = line.split(/\s+/);
    if (patterns === undefined || type === undefined || base64 === undefined) continue;
    if (patterns.split(',').some((pattern) => matches(pattern, name)))
      keys.push(Buffer.from(base64, 'base64'));
  }
  return keys;
}

function matches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('|1|')) return pattern === name;
  const [salt, hash] = pattern.slice(3).split('|');
  if (salt === undefined || hash === undefined) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}
