import { describe, expect, it } from 'vitest';
import { ByteQueue } from './byte-queue.js';

describe('ByteQueue', () => {
  it('returns bytes in order across chunk boundaries', () => {
    const q = new ByteQueue();
    q.push(Buffer.from('abc'));
    q.push(Buffer.alloc(0));
    q.push(Buffer.from('defgh'));
    expect(q.length).toBe(8);
    expect(q.take(2).toString()).toBe('ab');
    expect(q.take(4).toString()).toBe('cdef');
    expect(q.length).toBe(2);
    expect(q.take(10).toString()).toBe('gh');
    expect(q.length).toBe(0);
    expect(q.take(1).length).toBe(0);
  });
});
