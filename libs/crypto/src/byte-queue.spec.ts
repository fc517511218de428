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

  it('hands out a view of a chunk that holds the bytes asked for, and a copy across chunks', () => {
    const q = new ByteQueue();
    const chunk = Buffer.from('abcdef');
    q.push(chunk);
    q.push(Buffer.from('gh'));
    const inside = q.take(4);
    const across = q.take(3);
    expect([inside.toString(), across.toString()]).toEqual(['abcd', 'efg']);
    // Written over afterwards, the chunk shows through the view and not through the copy.
    chunk.write('ABCDEF');
    expect([inside.toString(), across.toString()]).toEqual(['ABCD', 'efg']);
    expect([q.length, q.take(5).toString(), q.length]).toEqual([1, 'h', 0]);
  });
});
