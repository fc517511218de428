import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createPublicKey } from 'node:crypto';
import { dirname } from 'node:path';
import type { CheckpointSigner } from '@tresor/audit-log';
import { generateSigningKeyPair } from '@tresor/crypto';
import { IoError } from '@tresor/errors';

/**
 * The audit service's Ed25519 checkpoint key from `file` (PKCS#8 PEM); created (0600) on the
 * first start so a fresh deployment works, after which it must be kept and backed up like any key.
 */
export async function loadOrCreateSigningKey(file: string): Promise<CheckpointSigner & { created: boolean }> {
  let privateKeyPem: string;
  let created = false;
  try {
    privateKeyPem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new IoError(`cannot read audit signing key ${file}: ${(err as Error).message}`, { cause: err });
    privateKeyPem = generateSigningKeyPair().privateKeyPem;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // wx: two replicas starting at once must not overwrite each other's new key.
    await writeFile(file, privateKeyPem, { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new IoError(`cannot write audit signing key ${file}: ${e.message}`, { cause: e });
      privateKeyPem = await readFile(file, 'utf8');
    });
    await chmod(file, 0o600);
    created = true;
  }
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKeyPem, publicKeyPem, created };
}
