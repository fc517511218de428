import { ExitCode, TresorError } from '@tresor/errors';

/** A configuration file that cannot be read or does not validate; exit 2 like every bad input (docs/cli.md). */
export class ConfigError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONFIG', ExitCode.Usage, options);
  }
}
