// Writes docs/api.md from the gateway's OpenAPI document (run: npm run docs:api).
import { writeFileSync } from 'node:fs';
import { renderApiReference } from './api-reference.js';

writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiReference());
