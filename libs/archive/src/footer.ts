import { IntegrityError } from '@tresor/errors';
import { FOOTER_MAGIC, FOOTER_SIZE } from './format.js';

/** Where the entry table lies in the payload. */
export interface TableLocation {
  readonly offset: number;
  readonly length: number;
}

/** The 24-byte payload footer: 'TRSRIDX1', u64 BE table offset, u64 BE table length. */
export function encodeFooter(location: TableLocation): Buffer {
  const footer = Buffer.alloc(FOOTER_SIZE);
  FOOTER_MAGIC.copy(footer, 0);
  footer.writeBigUInt64BE(BigInt(location.offset), FOOTER_MAGIC.length);
  footer.writeBigUInt64BE(BigInt(location.length), FOOTER_MAGIC.length + 8);
  return footer;
}

/** Decodes a footer and checks the table ends exactly where the footer starts. */
export function decodeFooter(footer: Buffer, payloadLength: number): TableLocation {
  if (footer.length !== FOOTER_SIZE || !footer.subarray(0, FOOTER_MAGIC.length).equals(FOOTER_MAGIC)) {
    throw new IntegrityError('payload footer is missing (bad footer magic)');
  }
  const offset = footer.readBigUInt64BE(FOOTER_MAGIC.length);
  const length = footer.readBigUInt64BE(FOOTER_MAGIC.length + 8);
  if (offset + length !== BigInt(payloadLength - FOOTER_SIZE)) {
    throw new IntegrityError(
      `entry table at ${offset} (+${length} bytes) does not end where the footer starts (${payloadLength - FOOTER_SIZE})`,
    );
  }
  return { offset: Number(offset), length: Number(length) };
}
