// gateway: the REST API for operators; authenticates callers, checks their permission and
// tenants, and translates requests to NATS jobs and catalog reads.
import 'reflect-metadata';
import { SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Redis } from 'ioredis';
import { z } from 'zod';
import {
  BreakGlassAuthenticator,
  LdapAuthenticator,
  LoginThrottle,
  MongoApiTokenStore,
  OidcAuthenticator,
  PasswordLogin,
  RevocationList,
  SessionService,
  authConfigFromEnv,
  sessionKeys,
} from '@tresor/auth';
import { connectMongoCatalog } from '@tresor/catalog';
import { baseConfigSchema, loadConfig, mongoTlsOptions, redisTlsOptions, runService, start } from '@tresor/service';
import { AuthModule } from './auth/auth.module.js';
import { ConsoleModule } from './console/console.module.js';
import { CoreModule } from './core/core.module.js';
import { ErrorFilter } from './core/http-errors.js';
import { FEATURE_MODULES } from './gateway.module.js';
import { openApiDocument } from './openapi.js';

start(async () => {
  const config = loadConfig(
    baseConfigSchema.extend({
      TRESOR_HTTP_PORT: baseConfigSchema.shape.TRESOR_HTTP_PORT.default(8420),
      TRESOR_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').default('redis://127.0.0.1:6379/0'),
      TRESOR_REDIS_PREFIX: z.string().default('tresor:'),
      /** The ops console build served at `/` (docs/console.md); relative to the working directory. */
      TRESOR_CONSOLE_DIR: z.string().min(1).default('dist/apps/console'),
    }),
  );
  const auth = authConfigFromEnv();
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, { clientOptions: mongoTlsOptions(config), readConcern: config.TRESOR_MONGODB_READ_CONCERN });
  const db = mongo.client.db(config.TRESOR_MONGODB_DB);
  const redis = new Redis(config.TRESOR_REDIS_URL, { ...redisTlsOptions(config), keyPrefix: config.TRESOR_REDIS_PREFIX, maxRetriesPerRequest: 2 });
  const sessions = new SessionService(sessionKeys(auth.signingKeyPem), new RevocationList(redis, db, 'auth:'), auth);
  const passwords = new PasswordLogin({
    ...(auth.ldap ? { ldap: new LdapAuthenticator(auth.ldap) } : {}),
    ...(auth.breakGlass ? { breakGlass: new BreakGlassAuthenticator(auth.breakGlass) } : {}),
    throttle: new LoginThrottle(redis, auth.lockout, 'auth:'),
    groupMap: auth.groupMap,
  });
  await runService({
    name: 'gateway',
    config,
    async setup({ bus, logger }) {
      if (!auth.signingKeyPem) logger.warn('TRESOR_AUTH_SIGNING_KEY_FILE is not set: sessions are signed with a key of this process only (one replica, lost on restart)');
      if (!auth.ldap && !auth.breakGlass) logger.warn('neither TRESOR_LDAP_URL nor TRESOR_AUTH_BREAKGLASS_HASH is set: only API tokens can authenticate, and none can be created');
      return {
        imports: [
          CoreModule.forRoot({ bus, jobs: mongo.jobs, catalog: mongo.catalog, schedules: mongo.schedules, db }),
          AuthModule.forRoot({ sessions, passwords, apiTokens: new MongoApiTokenStore(db), ...(auth.oidc ? { oidc: new OidcAuthenticator(auth.oidc, auth.groupMap) } : {}) }),
          ...FEATURE_MODULES,
          ConsoleModule.forRoot({ dir: config.TRESOR_CONSOLE_DIR, logger }),
        ],
        checks: () => ({ redis: redis.status === 'ready' }),
        configureApp: (app) => {
          app.useGlobalFilters(new ErrorFilter());
          const document = openApiDocument() as unknown as OpenAPIObject;
          SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
        },
        stop: async () => {
          redis.disconnect();
          await mongo.close();
        },
      };
    },
  });
});
