import { registerSecretsOf } from '@tresor/errors';
import { runCli } from './cli.js';

// TRESOR_PASSPHRASE, TRESOR_TOKEN, TRESOR_PKCS11_PIN and any other secret-named variable never show up in what we print.
registerSecretsOf(process.env);

// Entry point of the `tresor` command (bin/tresor.mjs imports this file).
process.exitCode = await runCli(process.argv.slice(2));
