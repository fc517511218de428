#!/usr/bin/env node
// Bundles one app (a cluster service or the CLI) into a single ESM file for container images and VM
// installs: `node scripts/bundle.mjs gateway [outDir]` writes <outDir>/gateway/main.mjs (outDir: dist).
// The workspace libs and the packages that are only devDependencies (mongodb, NATS, ioredis, ldapts)
// are bundled; the production `dependencies` stay external, so `npm ci --omit=dev` installs exactly
// what the bundle imports (native addons included). esbuild strips types like tsx does (legacy
// decorators on, no decorator metadata): the code injects by explicit tokens, so it runs the same.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { build } from 'esbuild';

export const APPS = ['gateway', 'backup-engine', 'storage-gateway', 'recovery', 'monitoring', 'audit', 'scheduler', 'cli'];

const root = fileURLToPath(new URL('..', import.meta.url));

/** Optional peers that libraries load in a try/catch; absent at run time, as in a plain install. */
const OPTIONAL = [
  'kerberos', '@mongodb-js/zstd', 'snappy', 'socks', 'aws4', 'mongodb-client-encryption', 'gcp-metadata',
  '@aws-sdk/credential-providers',
];

export async function bundle(app, outDir = join(root, 'dist')) {
  if (!APPS.includes(app)) throw new Error(`unknown app ${app}; one of ${APPS.join(', ')}`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const outfile = join(outDir, app, 'main.mjs');
  await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'apps', app, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: join(root, 'tsconfig.services.json'),
    external: [...Object.keys(pkg.dependencies), ...OPTIONAL],
    // CommonJS code bundled into ESM still calls require() for Node built-ins.
    banner: { js: "import { createRequire as __tresorCreateRequire } from 'node:module'; const require = __tresorCreateRequire(import.meta.url);" },
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [app, outDir] = process.argv.slice(2);
  const apps = app === 'all' ? APPS : [app];
  for (const a of apps) process.stdout.write(`${await bundle(a, outDir)}\n`);
}
