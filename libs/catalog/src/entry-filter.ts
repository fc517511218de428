import picomatch from 'picomatch';
import type { EntryQuery } from './catalog.js';

/** Decides from a relative entry path whether an EntryQuery keeps the entry. */
export type EntryFilter = (path: string) => boolean;

type Matcher = (path: string) => boolean;

/** Compiles a query once, for use on every entry of a listing (the semantics are on EntryQuery). */
export function compileEntryQuery(query: EntryQuery = {}): EntryFilter {
  const include = compilePatterns(query.include ?? []);
  const exclude = compilePatterns(query.exclude ?? []);
  // Every entry of a backup is read this way (a parent's, once per backup): no ancestors to list.
  if (include.length === 0 && exclude.length === 0) return keepAll;
  return (path) => {
    const candidates = selfAndAncestors(path);
    const matchesAny = (matchers: Matcher[]): boolean => matchers.some((match) => candidates.some(match));
    if (include.length > 0 && !matchesAny(include)) return false;
    return !matchesAny(exclude);
  };
}

const keepAll: EntryFilter = () => true;

function compilePatterns(patterns: readonly string[]): Matcher[] {
  return patterns.map(compilePattern);
}

function compilePattern(raw: string): Matcher {
  const trimmed = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
  // A slash-less pattern is what users of `--include "*.key"` mean to apply at any depth.
  const matcher = trimmed.startsWith('/')
    ? picomatch(trimmed.slice(1), { dot: true })
    : picomatch(trimmed, { dot: true, basename: !trimmed.includes('/') });
  // Wrapped so a stray second argument never turns on picomatch's object-returning mode.
  return (path) => matcher(path);
}

/** `a/b/c` → [`a/b/c`, `a/b`, `a`]: a directory matching a pattern carries its subtree with it. */
function selfAndAncestors(path: string): string[] {
  const result = [path];
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    result.push(path.slice(0, slash));
  }
  return result;
}
