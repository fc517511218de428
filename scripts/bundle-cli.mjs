#!/usr/bin/env node
// `nx build cli` step: bundles the CLI into dist/cli-bin/ for bin/tresor.mjs, which runs it instead of
// the TypeScript sources through tsx (0.9 -> 0.3 s CPU and 120 -> 80 MiB per command, measured) as
// long as every input is exactly as it was when built (inputs.json: mtime and size of each source
// file, package.json and package-lock.json). Code splitting keeps the storage and KMS SDKs, which
// the sources import on demand, out of start-up (one bundle would hoist their imports to the top).
// Each build goes to its own directory; dist/cli-bin/current.json (renamed into place last) names
// it with its inputs, so a command starting meanwhile runs the old build or the new one, never half.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'cli-bin');
const OPTIONAL = [
  'kerberos', '@mongodb-js/zstd', 'snappy', 'socks', 'aws4', 'mongodb-client-encryption', 'gcp-metadata',
  '@aws-sdk/credential-providers',
];

// Pure-JavaScript dependencies every command loads, bundled in: from node_modules they cost one
// file read, resolution and compilation per module (~190 files, zod's ~100 of them) at each start.
// Native addons and the SDKs loaded on demand stay external.
const INLINED = ['zod', 'commander', 'picomatch', 'croner', '@opentelemetry/api'];

// zod re-exports its ~60 message locales as `z.locales`, which nothing here uses (English is
// registered by its schemas directly): left in, they are 370 kB of the JavaScript every command
// parses at start-up.
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/v4/') ? { path: 'zod-locales', namespace: 'zod-without-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-without-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

const started = Date.now();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const id = `${started.toString(36)}-${process.pid}`;
const dir = join(outDir, id);
const result = await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'apps', 'cli', 'src', 'main.ts')],
  outdir: dir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  tsconfig: join(root, 'tsconfig.services.json'),
  external: [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {}), ...OPTIONAL].filter((name) => !INLINED.includes(name)),
  // CommonJS code bundled into ESM still calls require() for Node built-ins.
  banner: { js: "import { createRequire as __tresorCreateRequire } from 'node:module'; const require = __tresorCreateRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
  plugins: [zodWithoutLocales],
});

const inputs = {};
// Inlined dependencies are not checked file by file: an install that changes them changes package-lock.json.
const sources = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/'));
for (const input of [...sources, 'package.json', 'package-lock.json', 'tsconfig.services.json', 'tsconfig.base.json']) {
  const path = relative(root, resolve(root, input));
  let stat;
  try {
    stat = statSync(join(root, path));
  } catch {
    continue;
  }
  // Changed while it was being bundled: the bundle may hold either version, so it is not installed.
  if (stat.mtimeMs >= started) {
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`bundle-cli: ${path} changed during the build; dist/cli-bin not updated (bin/tresor.mjs uses tsx)\n`);
    process.exit(0);
  }
  inputs[path] = [stat.mtimeMs, stat.size];
}
const current = join(outDir, 'current.json');
const temp = `${current}.tmp-${process.pid}`;
writeFileSync(temp, `${JSON.stringify({ main: join(id, 'main.mjs'), builtAt: new Date(started).toISOString(), inputs })}\n`);
renameSync(temp, current);

// Earlier builds stay a while: a command started from one (tresor monitor start runs for days) may
// still import one of its chunks on demand. The five newest are kept.
const builds = readdirSync(outDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
builds.sort((a, b) => parseInt(b, 36) - parseInt(a, 36));
for (const name of builds.slice(5)) rmSync(join(outDir, name), { recursive: true, force: true });
process.stdout.write(`${relative(root, join(dir, 'main.mjs'))} (${Object.keys(inputs).length} inputs checked by bin/tresor.mjs)\n`);
