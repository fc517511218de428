import { describe, expect, it } from 'vitest';
import type { EntryQuery } from './catalog.js';
import { compileEntryQuery } from './entry-filter.js';

const paths = [
  'ca',
  'ca/root.pem',
  'ca/.hidden.key',
  'tls',
  'tls/server.key',
  'tls/server.pem',
  'tls/old',
  'tls/old/server.key',
  'deep/a/b/c.key',
  'server.key',
  'cache',
  'cache/x.key',
];

function kept(query: EntryQuery): string[] {
  const keep = compileEntryQuery(query);
  return paths.filter(keep);
}

describe('compileEntryQuery', () => {
  it('keeps everything without patterns or with empty lists', () => {
    expect(kept({})).toEqual(paths);
    expect(kept({ include: [], exclude: [] })).toEqual(paths);
  });

  it('matches a slash-less pattern against the name at any depth, dotfiles included', () => {
    expect(kept({ include: ['*.key'] })).toEqual([
      'ca/.hidden.key',
      'tls/server.key',
      'tls/old/server.key',
      'deep/a/b/c.key',
      'server.key',
      'cache/x.key',
    ]);
  });

  it('matches a pattern with a slash against the whole path, and a leading slash anchors it', () => {
    expect(kept({ include: ['tls/*.pem'] })).toEqual(['tls/server.pem']);
    expect(kept({ include: ['/server.key'] })).toEqual(['server.key']);
    expect(kept({ include: ['**/server.key'] })).toEqual([
      'tls/server.key',
      'tls/old/server.key',
      'server.key',
    ]);
  });

  it('carries a matching directory its whole subtree', () => {
    expect(kept({ include: ['tls'] })).toEqual([
      'tls',
      'tls/server.key',
      'tls/server.pem',
      'tls/old',
      'tls/old/server.key',
    ]);
    expect(kept({ exclude: ['old', 'cache/'] })).toEqual(
      paths.filter((p) => !p.startsWith('tls/old') && !p.startsWith('cache')),
    );
  });

  it('applies excludes after includes', () => {
    expect(kept({ include: ['*.key'], exclude: ['tls/old', '.*'] })).toEqual([
      'tls/server.key',
      'deep/a/b/c.key',
      'server.key',
      'cache/x.key',
    ]);
  });
});
