import { z } from 'zod';
import { storageConfigSchema } from '@tresor/repository';
import { backendTypes } from '@tresor/storage';
import { tresorConfigSchema } from './schema.js';

/**
 * The outline of `storage` for editors: the code validates it with each backend's own parser
 * (a transform, which JSON Schema cannot express), so the schema gives the two forms and the
 * backend names and leaves each backend's settings open.
 */
const STORAGE_OUTLINE = {
  description: 'Where the repository keeps its objects (docs/storage.md): one local directory, or named locations with a write policy',
  anyOf: [
    {
      type: 'object',
      properties: { type: { const: 'local' }, path: { type: 'string', minLength: 1 } },
      required: ['type', 'path'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        locations: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }, type: { enum: [...backendTypes] } },
            required: ['name', 'type'],
          },
        },
        writePolicy: { enum: ['all', 'quorum'], default: 'all' },
      },
      required: ['locations'],
      additionalProperties: false,
    },
  ],
};

/**
 * The JSON Schema (draft 2020-12) of the file as written, for editors and CI linters; published
 * as docs/tresor.schema.json. Checks that run in code (cron expressions, time zones, each storage
 * backend's settings) are not in it, so `tresor config validate` stays the authority.
 */
export function tresorConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(tresorConfigSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === storageConfigSchema) Object.assign(ctx.jsonSchema, STORAGE_OUTLINE);
    },
  });
  const { $schema, ...rest } = schema;
  return { $schema, $id: 'urn:tresor:config:1', title: 'Tresor configuration file, version 1 (docs/configuration.md)', ...rest };
}
