#!/usr/bin/env node
// Entry point for `npx tresor`: runs the CLI from its TypeScript sources through tsx,
// so a fresh `npm ci` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../apps/cli/src/main.ts');
