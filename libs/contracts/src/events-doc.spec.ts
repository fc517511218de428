import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderEventsDoc } from './events-doc.js';

describe('docs/events.md', () => {
  it('is what the schemas generate (run `npm run docs:events` after changing a schema)', () => {
    const committed = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderEventsDoc());
  });
});
