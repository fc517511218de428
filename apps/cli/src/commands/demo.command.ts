import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TresorError } from '@tresor/errors';
import { optionsOf } from '../context.js';
import { generateExampleKeyTree, touchOneKey } from '../demo/example-tree.js';

interface DemoOptions {
  dir?: string;
}

/** `tresor demo`: the whole cycle on a generated key tree, in a scratch directory. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate an example key tree, then back it up, list, verify and restore it')
    .option('--dir <dir>', 'scratch directory (default: a new temporary directory)')
    .action(async (_opts: DemoOptions, command: Command) => {
      const options = optionsOf<DemoOptions>(command);
      const { runCli } = await import('../cli.js');
      const dir = options.dir ? resolve(options.dir) : await mkdtemp(join(tmpdir(), 'tresor-demo-'));
      const keys = join(dir, 'keys');
      const repo = join(dir, 'repository');
      const restored = join(dir, 'restored');
      // A demo-only passphrase in this process's environment; real repositories take theirs from
      // --passphrase-env, TRESOR_PASSPHRASE or a prompt.
      process.env.TRESOR_DEMO_PASSPHRASE = 'demo passphrase, not for real keys';
      const common = ['--repo', repo, '--passphrase-env', 'TRESOR_DEMO_PASSPHRASE'];
      const step = async (title: string, args: string[]) => {
        process.stdout.write(`\n$ tresor ${args.join(' ')}    # ${title}\n`);
        const code = await runCli([...common, ...args]);
        if (code !== 0) throw new TresorError(`demo step '${title}' failed (exit ${code})`, 'DEMO', code);
      };

      const tree = await generateExampleKeyTree(keys);
      process.stdout.write(`demo in ${dir}: generated ${tree.files} key files (${tree.bytes} bytes) in ${keys}\n`);
      await step('create a passphrase-protected repository', ['init']);
      await step('full backup', ['backup', keys, '--level', 'full', '--tag', 'demo']);
      await touchOneKey(keys);
      await step('incremental backup after one key changed', ['backup', keys, '--level', 'incremental']);
      await step('list backups', ['list']);
      await step('deep verify of every backup', ['verify', '--all', '--deep']);
      await step('restore the latest state', ['restore', 'latest', '--target', restored]);
      await step('selective restore of private keys only (dry run)', ['restore', 'latest', '--target', join(dir, 'only-keys'), '--include', '*.key', '--dry-run']);
      process.stdout.write(`\ndemo finished: compare with  diff -r ${keys} ${restored}\n`);
    });
}
