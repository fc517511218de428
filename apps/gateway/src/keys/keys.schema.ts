import { keysResponseSchema } from '@tresor/contracts';
import { ok } from '../core/openapi-parts.js';

/** OpenAPI paths of the keys feature. */
export const keysPaths = {
  '/v1/keys': {
    get: { summary: 'KEK versions and key providers: state, age against the cryptoperiod, warnings; never key material (docs/keys.md)', responses: ok(keysResponseSchema) },
  },
};
