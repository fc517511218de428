// CHANGELOG.md keeps the versions of the three surfaces honest: the CLI's version is the package's,
// and every event and command schema (with its version) is recorded there.
import { describe, expect, it } from 'vitest';
import { COMMANDS, EVENTS } from '@tresor/contracts';
import { buildProgram } from '../../apps/cli/src/cli.js';
import { read } from '../deploy/support.js';

const changelog = read('CHANGELOG.md');
const version = (JSON.parse(read('package.json')) as { version: string }).version;

/** `name` (version 1) or `name` v<N> is mentioned; dotted families may be written `storage.put.begin|chunk`. */
function mentions(name: string, v: number): boolean {
  const [family, ...rest] = name.split('.');
  const leaf = rest.at(-1)!;
  const written = changelog.includes(`\`${name}\``) || new RegExp(`\`${family}\\.[\\w.|]*\\b${leaf}\\b[\\w.|]*\``).test(changelog);
  return written && (v === 1 || changelog.includes(`${name} v${v}`) || changelog.includes(`\`${name}\` v${v}`));
}

describe('CHANGELOG.md', () => {
  it('has a section for the current version, and `tresor --version` prints it', () => {
    expect(changelog).toContain(`## [${version}]`);
    expect(buildProgram().version()).toBe(version);
  });

  it.each(Object.values(EVENTS).map((e) => [e.name, e.version] as const))('records event %s (v%s)', (name, v) => {
    expect(mentions(name, v), `add ${name} v${v} to CHANGELOG.md`).toBe(true);
  });

  it.each(Object.values(COMMANDS).map((c) => [c.name, c.version] as const))('records command %s (v%s)', (name, v) => {
    expect(mentions(name, v), `add ${name} v${v} to CHANGELOG.md`).toBe(true);
  });
});
