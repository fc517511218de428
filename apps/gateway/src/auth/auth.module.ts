import type { DynamicModule } from '@nestjs/common';
import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { MongoApiTokenStore, OidcAuthenticator, PasswordLogin, SessionService } from '@tresor/auth';
import { HealthController } from '@tresor/service';
import { Public } from './access.decorator.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { API_TOKENS, OIDC, PASSWORD_LOGIN, SESSIONS } from './auth.tokens.js';

export interface AuthAdapters {
  sessions: SessionService;
  passwords: PasswordLogin;
  apiTokens: MongoApiTokenStore;
  oidc?: OidcAuthenticator;
}

/** Authentication routes and the global AuthGuard (deny by default) over every controller. */
// The service kit's process probes (/health/live, /health/ready) are for load balancers: no credentials.
Public()(HealthController);

@Global()
@Module({})
export class AuthModule {
  /** The module with the session service, password login and API token store main.ts built. */
  static forRoot(adapters: AuthAdapters): DynamicModule {
    const providers = [
      { provide: SESSIONS, useValue: adapters.sessions },
      { provide: PASSWORD_LOGIN, useValue: adapters.passwords },
      { provide: API_TOKENS, useValue: adapters.apiTokens },
      { provide: OIDC, useValue: adapters.oidc ?? null },
    ];
    return {
      module: AuthModule,
      controllers: [AuthController],
      providers: [...providers, { provide: APP_GUARD, useClass: AuthGuard }],
      exports: providers.map((p) => p.provide),
    };
  }
}
