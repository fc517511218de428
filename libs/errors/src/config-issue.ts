/** One validation problem as zod reports it (structural, so this lib needs no zod). */
export interface ConfigIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * A path inside a config file as an operator would type it: `storage.warningPercent`,
 * `schedules[0].cron`, `sources["/etc/keys"].rpoHours`; `(top)` for the document itself.
 */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(key))) out += out === '' ? String(key) : `.${String(key)}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(top)';
}

/** The one-line form every config error takes: `<file>: <path>: <what was wrong and what is expected>`. */
export function describeConfigIssue(where: string, issue: ConfigIssue, expected?: string): string {
  return `${where}: ${formatConfigPath(issue.path)}: ${issue.message}${expected ? `; expected ${expected}` : ''}`;
}
