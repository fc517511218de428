import { describe, expect, it } from 'vitest';
import { renderApiReference } from '../../scripts/api-reference.js';
import { read } from '../deploy/support.js';

describe('docs/api.md', () => {
  it('is what the gateway OpenAPI document generates (run `npm run docs:api` after changing a route)', () => {
    expect(read('docs/api.md')).toBe(renderApiReference());
  });
});
