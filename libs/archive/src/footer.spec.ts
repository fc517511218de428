import { describe, expect, it } from 'vitest';
import { IntegrityError } from '@tresor/errors';
import { decodeFooter, encodeFooter } from './footer.js';

describe('payload footer', () => {
  it('is TRSRIDX1, u64 BE offset, u64 BE length', () => {
    const footer = encodeFooter({ offset: 0x0102, length: 0x0304 });
    expect(footer.toString('hex')).toBe(
      Buffer.from('TRSRIDX1').toString('hex') + '0000000000000102' + '0000000000000304',
    );
    expect(decodeFooter(footer, 0x0102 + 0x0304 + 24)).toEqual({ offset: 0x0102, length: 0x0304 });
  });

  it('rejects a footer whose table does not end where it starts', () => {
    expect(() => decodeFooter(encodeFooter({ offset: 0, length: 5 }), 30)).toThrow(IntegrityError);
    expect(() => decodeFooter(Buffer.alloc(24), 24)).toThrow(/bad footer magic/);
  });
});
