import { runCli } from './cli.js';

// Entry point of the `tresor` command (bin/tresor.mjs imports this file).
process.exitCode = await runCli(process.argv.slice(2));
