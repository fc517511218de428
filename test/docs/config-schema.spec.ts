import { describe, expect, it } from 'vitest';
import { tresorConfigJsonSchema } from '@tresor/config';
import { read } from '../deploy/support.js';

describe('docs/tresor.schema.json', () => {
  it('is what the config schema generates (run `npm run docs:config-schema` after changing a config section)', () => {
    expect(read('docs/tresor.schema.json')).toBe(`${JSON.stringify(tresorConfigJsonSchema(), null, 2)}\n`);
  });
});
