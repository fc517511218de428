#!/usr/bin/env node
// Copies the packages an app's bundle imports, and everything they depend on, out of an installed
// node_modules: `node scripts/prune-deps.mjs <externals.json> <project dir> <destination dir>`
// writes <destination>/node_modules with only those packages (their install layout and native
// builds as they are). The image build runs it after `npm prune --omit=dev`, so each image holds
// its own app's production dependencies and nothing else.
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory of package `name` as Node resolves it from `fromDir` (walking up), or undefined. */
function resolvePackage(name, fromDir, root) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/**
 * Package directories (relative to `root`) that the `required` and (where installed) `optional`
 * packages need: the closure over their dependencies.
 */
export function closure({ required, optional = [] }, root) {
  const found = new Set();
  const queue = [...required.map((name) => ({ name, from: root, optional: false })), ...optional.map((name) => ({ name, from: root, optional: true }))];
  while (queue.length > 0) {
    const { name, from, optional } = queue.shift();
    const dir = resolvePackage(name, from, root);
    if (!dir) {
      if (!optional) throw new Error(`${name} (needed from ${relative(root, from) || '.'}) is not installed in ${root}/node_modules`);
      continue;
    }
    const rel = relative(root, dir);
    if (found.has(rel)) continue;
    found.add(rel);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
    for (const dep of Object.keys(pkg.peerDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
  }
  // A package's own node_modules is copied with it.
  return [...found].sort().filter((rel, _i, all) => !all.some((other) => other !== rel && rel.startsWith(`${other}${sep}node_modules${sep}`)));
}

export function pruneDeps(externalsFile, root, destination) {
  const externals = JSON.parse(readFileSync(externalsFile, 'utf8'));
  const dirs = closure(externals, realpathSync(root));
  for (const rel of dirs) {
    mkdirSync(dirname(join(destination, rel)), { recursive: true });
    cpSync(join(root, rel), join(destination, rel), { recursive: true, verbatimSymlinks: true });
  }
  return dirs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [externals, root, destination] = process.argv.slice(2);
  if (!externals || !root || !destination) {
    process.stderr.write('usage: prune-deps.mjs <externals.json> <project dir> <destination dir>\n');
    process.exit(2);
  }
  const dirs = pruneDeps(externals, root, destination);
  process.stdout.write(`${dirs.length} packages copied to ${join(destination, 'node_modules')}\n`);
}
