#!/usr/bin/env node
// Starts one cluster service from its TypeScript sources: `tresor-service gateway`.
// tsconfig.services.json enables the (legacy) decorators NestJS needs.
import { fileURLToPath, URL } from 'node:url';
import { register } from 'tsx/esm/api';

const SERVICES = ['gateway', 'backup-engine', 'storage-gateway', 'recovery', 'monitoring', 'audit', 'scheduler'];
const name = process.argv[2];
if (!SERVICES.includes(name)) {
  process.stderr.write(`usage: tresor-service <${SERVICES.join('|')}>\n`);
  process.exit(2);
}
register({ tsconfig: fileURLToPath(new URL("../tsconfig.services.json", import.meta.url)) });
await import(`../apps/${name}/src/main.ts`);
