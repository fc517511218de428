// Renders the `tresor` command tree (apps/cli/src/cli.ts buildProgram()) as Markdown, from the
// same definitions commander parses, so the reference cannot drift from the command.
import type { Argument, Command, Help, Option } from 'commander';
import { ExitCode } from '@tresor/errors';
import { buildProgram } from '../apps/cli/src/cli.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function path(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function optionsTable(help: Help, options: readonly Option[]): string[] {
  const shown = options.filter((o) => o.long !== '--help' && o.long !== '--version');
  if (shown.length === 0) return [];
  return ['| option | meaning |', '|---|---|', ...shown.map((o) => `| \`${cell(help.optionTerm(o))}\` | ${cell(help.optionDescription(o))} |`), ''];
}

function argumentsTable(help: Help, args: readonly Argument[]): string[] {
  if (args.length === 0) return [];
  return [
    '| argument | meaning |',
    '|---|---|',
    ...args.map((a) => `| \`${cell(help.argumentTerm(a))}\` | ${cell(help.argumentDescription(a) || (a.required ? 'required' : 'optional'))} |`),
    '',
  ];
}

function section(help: Help, cmd: Command, depth: number): string[] {
  const lines: string[] = [];
  const visible = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  lines.push(`${'#'.repeat(Math.min(depth, 6))} \`${path(cmd)}\``, '');
  if (cmd.aliases().length > 0) lines.push(`Aliases: ${cmd.aliases().map((a) => `\`${a}\``).join(', ')}.`, '');
  lines.push('```text', help.commandUsage(cmd), '```', '');
  const description = help.commandDescription(cmd);
  if (description) lines.push(description, '');
  lines.push(...argumentsTable(help, help.visibleArguments(cmd)));
  lines.push(...optionsTable(help, help.visibleOptions(cmd)));
  for (const sub of visible) lines.push(...section(help, sub, depth + 1));
  return lines;
}

/** The whole reference: global options, every command and subcommand, exit codes. */
export function renderCliReference(program: Command = buildProgram()): string {
  const help = program.createHelp();
  const lines: string[] = [
    '# `tresor` CLI reference',
    '',
    '<!-- Generated from apps/cli/src/cli.ts by `npm run docs:cli`; do not edit by hand. -->',
    '',
    `Version ${program.version() ?? ''}. Usage, examples and where secrets come from: [cli.md](cli.md).`,
    '',
    '## Global options',
    '',
    ...optionsTable(help, help.visibleOptions(program)),
    '## Commands',
    '',
    ...help
      .visibleCommands(program)
      .filter((c) => c.name() !== 'help')
      .flatMap((c) => section(help, c, 3)),
    '## Exit codes',
    '',
    '| code | meaning |',
    '|---|---|',
    ...Object.entries(ExitCode).map(([name, code]) => `| ${code} | ${name} |`),
    '',
  ];
  return lines.join('\n');
}
