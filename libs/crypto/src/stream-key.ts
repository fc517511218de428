import { hkdfSync } from 'node:crypto';
import { UsageError } from '@tresor/errors';
import { DATA_KEY_SIZE } from './data-key.js';
import { STREAM_KEY_SIZE } from './stream-frame.js';

/** Per-stream AES-256 key: HKDF-SHA256(ikm = dek, salt, info), 32 bytes. */
export function deriveStreamKey(dek: Buffer, salt: Buffer, info: string): Buffer {
  if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE) {
    throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
  }
  if (!Buffer.isBuffer(salt) || salt.length === 0) {
    throw new UsageError('stream key salt is empty');
  }
  return Buffer.from(hkdfSync('sha256', dek, salt, Buffer.from(info, 'utf8'), STREAM_KEY_SIZE));
}
