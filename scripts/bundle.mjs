#!/usr/bin/env node
// Bundles one app (a cluster service or the CLI) into a single ESM file for container images and VM
// installs: `node scripts/bundle.mjs gateway [outDir]` writes <outDir>/gateway/main.mjs (outDir: dist).
// The workspace libs and the packages that are only devDependencies (mongodb, NATS, ioredis, ldapts)
// are bundled; the production `dependencies` stay external (native addons included), and the ones
// the bundle imports are listed next to it in externals.json for scripts/prune-deps.mjs. esbuild strips types like tsx does (legacy
// decorators on, no decorator metadata): the code injects by explicit tokens, so it runs the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
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
  const result = await build({
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
    metafile: true,
  });
  // The packages the bundle imports at run time: scripts/prune-deps.mjs keeps these and their
  // dependencies only, so each image holds what its app needs.
  const builtin = new Set(builtinModules);
  const packages = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const i of output.imports) {
      if (!i.external || i.path.startsWith('node:') || builtin.has(i.path.split('/')[0])) continue;
      packages.add(i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0]);
    }
  }
  const externals = {
    required: [...packages].filter((p) => !OPTIONAL.includes(p)).sort(),
    optional: [...packages].filter((p) => OPTIONAL.includes(p)).sort(),
  };
  writeFileSync(join(outDir, app, 'externals.json'), `${JSON.stringify(externals, null, 2)}\n`);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [app, outDir] = process.argv.slice(2);
  const apps = app === 'all' ? APPS : [app];
  for (const a of apps) process.stdout.write(`${await bundle(a, outDir)}\n`);
}
