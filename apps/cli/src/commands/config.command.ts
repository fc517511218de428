import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '@tresor/errors';
import { configFileOf } from '../config-file.js';
import { optionsOf } from '../context.js';
import { printJson } from '../format.js';

interface TranslateOptions {
  backupConfig?: string;
  monitorConfig?: string;
  format: string;
  output?: string;
}

/** Loaded on use: the schemas pull in the alerting and assurance libs. */
const configLib = () => import('@tresor/config');

/** `tresor config validate|schema|translate`: the one config file (docs/configuration.md). */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('the config file: validate it, print its JSON Schema, translate the seed system\'s files (docs/configuration.md)');

  config
    .command('validate')
    .description('check a config file (default: --config, else $TRESOR_CONFIG); print what it sets up, or one line naming the file, the path and the expected form (exit 2)')
    .argument('[file]', 'the config file (YAML or JSON)')
    .action(async (file: string | undefined, _opts: object, command: Command) => {
      const options = optionsOf<object>(command);
      const target = file ?? configFileOf(options);
      if (target === undefined) throw new UsageError('no config file: give FILE, --config FILE or set TRESOR_CONFIG');
      const { formatSummary, loadTresorConfig, summarizeConfig } = await configLib();
      const summary = summarizeConfig(await loadTresorConfig(target));
      if (options.json) printJson({ file: target, valid: true, ...summary });
      else process.stdout.write(`${formatSummary(target, summary)}\n`);
    });

  config
    .command('schema')
    .description('print the JSON Schema (draft 2020-12) of the config file, as published in docs/tresor.schema.json')
    .action(async () => {
      const { tresorConfigJsonSchema } = await configLib();
      process.stdout.write(`${JSON.stringify(tresorConfigJsonSchema(), null, 2)}\n`);
    });

  config
    .command('translate')
    .description('translate the seed system\'s backup_config.json and monitor_config.json into one config file (stdout); what has no equivalent is listed on stderr')
    .option('--backup-config <file>', 'the seed system\'s backup_config.json')
    .option('--monitor-config <file>', 'the seed system\'s monitor_config.json')
    .option('--format <format>', 'yaml or json', 'yaml')
    .option('--output <file>', 'write the config to this file instead of stdout')
    .action(async (_opts: TranslateOptions, command: Command) => {
      const options = optionsOf<TranslateOptions>(command);
      if (options.format !== 'yaml' && options.format !== 'json') throw new UsageError(`--format '${options.format}': expected yaml or json`);
      const { readConfigDocument, renderConfig, translateSeed } = await configLib();
      const read = async (file: string | undefined) => (file === undefined ? undefined : { json: await readConfigDocument(file), file });
      const backup = await read(options.backupConfig);
      const monitor = await read(options.monitorConfig);
      const { config: translated, notes } = translateSeed({ ...(backup ? { backup } : {}), ...(monitor ? { monitor } : {}) });
      const from = [options.backupConfig, options.monitorConfig].filter(Boolean).join(' and ');
      const text = renderConfig(translated, options.format, [`translated from ${from} by tresor config translate (docs/configuration.md)`]);
      if (options.output) await writeFile(options.output, text);
      else process.stdout.write(text);
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
    });
}
