import type { Command } from 'commander';
import { UsageError } from '@tresor/errors';
import { optionsOf } from '../context.js';
import { printJson } from '../format.js';
import { askSecret } from '../prompt.js';
import { credentialsFile, forgetSession, saveSession } from '../remote/credentials.js';
import { remoteClient } from '../remote/remote.js';
import { ssoLogin } from '../remote/sso.js';
import type { GlobalOptions } from '../context.js';

interface LoginOptions {
  sso?: boolean;
  username?: string;
  passwordEnv?: string;
}

/** The gateway URL and a client for it, or a usage error naming the fix. */
function server(options: GlobalOptions, what: string) {
  const client = remoteClient(options);
  const url = options.server ?? process.env.TRESOR_SERVER;
  if (!client || !url) throw new UsageError(`${what} talks to a cluster gateway: give --server URL or set TRESOR_SERVER`);
  return { client, url };
}

/** `tresor login` / `tresor logout`: a session at a cluster gateway, cached for later commands. */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('log in at the gateway (LDAP or break-glass account, or --sso); the session is cached in a 0600 file')
    .option('--sso', 'single sign-on with the OpenID provider in a browser (authorization code + PKCE)')
    .option('--username <name>', 'login name (default: $TRESOR_USERNAME, else $USER)')
    .option('--password-env <var>', 'read the password from this environment variable (default: ask)')
    .action(async (_: unknown, command: Command) => {
      const options = optionsOf<LoginOptions>(command);
      const { client, url } = server(options, 'tresor login');
      let session;
      let username;
      if (options.sso) {
        session = await ssoLogin(client, (link) => process.stderr.write(`Open this address in a browser to sign in:\n${link}\n`));
        username = 'sso';
      } else {
        username = options.username ?? process.env.TRESOR_USERNAME ?? process.env.USER;
        if (!username) throw new UsageError('no login name: give --username');
        const password = options.passwordEnv ? process.env[options.passwordEnv] : await askSecret(`Password for ${username}: `);
        if (!password) throw new UsageError(options.passwordEnv ? `environment variable ${options.passwordEnv} is empty or unset` : 'empty password');
        session = await client.auth.login(username, password);
      }
      saveSession(url, { accessToken: session.accessToken, refreshToken: session.refreshToken, expiresAt: new Date(Date.now() + session.expiresIn * 1000).toISOString(), username });
      const me = await remoteClient(options)!.auth.me();
      if (options.json) printJson({ server: url, ...me, credentials: credentialsFile() });
      else process.stdout.write(`logged in at ${url} as ${me.name} (${me.roles.join(', ')}; tenants ${me.tenants.join(', ')})\n`);
    });

  program
    .command('logout')
    .description('end the cached session at the gateway at once and forget it')
    .action(async (_: unknown, command: Command) => {
      const options = optionsOf<GlobalOptions>(command);
      const { client, url } = server(options, 'tresor logout');
      try {
        await client.auth.logout();
      } finally {
        forgetSession(url);
      }
      if (options.json) printJson({ server: url, loggedOut: true });
      else process.stdout.write(`logged out of ${url}\n`);
    });
}
