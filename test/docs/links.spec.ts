// The operator and integrator docs link only to files (and headings) that exist.
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, read } from '../deploy/support.js';

const PAGES = [
  'README.md',
  'CHANGELOG.md',
  'deploy/README.md',
  'docs/getting-started.md',
  'docs/concepts.md',
  'docs/operations.md',
  'docs/troubleshooting.md',
  'docs/cli-reference.md',
  'docs/api.md',
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/^#{1,6}\s+(.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

describe.each(PAGES)('%s', (page) => {
  it('links to files and headings that exist', () => {
    const text = read(page).replace(/^```[\s\S]*?^```$/gm, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#') as [string, string | undefined];
      const path = file ? normalize(join(dirname(page), file)) : page;
      expect(exists(path), `${page} -> ${target}`).toBe(true);
      if (anchor && path.endsWith('.md')) expect(anchors(read(path)), `${page} -> ${target}`).toContain(anchor);
    }
  });
});
