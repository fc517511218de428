// Runs a scan and an open in a separate process, so the spec can run them as an unprivileged
// user: root reads files whatever their mode, and permission errors cannot be produced otherwise.
import { FilesystemSource } from '../filesystem.source.js';

const [root, file] = process.argv.slice(2);
if (root === undefined || file === undefined) throw new Error('usage: scan-child <root> <file>');
const source = new FilesystemSource(root);
const items: unknown[] = [];
for await (const item of source.scan()) items.push(item);
let openError: { name: string; message: string } | undefined;
try {
  for await (const _chunk of source.open(file)) {
    // drain
  }
} catch (err) {
  openError = { name: (err as Error).name, message: (err as Error).message };
}
process.stdout.write(JSON.stringify({ items, openError }));
