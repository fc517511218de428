// Writes docs/cli-reference.md from the command definitions (run: npm run docs:cli).
import { writeFileSync } from 'node:fs';
import { renderCliReference } from './cli-reference.js';

writeFileSync(new URL('../docs/cli-reference.md', import.meta.url), renderCliReference());
