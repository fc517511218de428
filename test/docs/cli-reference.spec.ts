import { describe, expect, it } from 'vitest';
import { renderCliReference } from '../../scripts/cli-reference.js';
import { read } from '../deploy/support.js';

describe('docs/cli-reference.md', () => {
  it('is what the command definitions generate (run `npm run docs:cli` after changing a command)', () => {
    expect(read('docs/cli-reference.md')).toBe(renderCliReference());
  });
});
