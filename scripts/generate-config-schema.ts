// Writes docs/tresor.schema.json from the config schema (run: npm run docs:config-schema).
import { writeFileSync } from 'node:fs';
import { tresorConfigJsonSchema } from '@tresor/config';

writeFileSync(new URL('../docs/tresor.schema.json', import.meta.url), `${JSON.stringify(tresorConfigJsonSchema(), null, 2)}\n`);
