import type { Type } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { HealthController } from '@tresor/service';
import { ACCESS_KEY } from './auth/access.decorator.js';
import type { AccessRule } from './auth/access.decorator.js';
import { AuthController } from './auth/auth.controller.js';
// Declares the service kit's health probes public, as in the running gateway.
import './auth/auth.module.js';
import { FEATURE_MODULES } from './gateway.module.js';

export interface DeclaredRoute {
  readonly method: string;
  /** Nest path, e.g. `/v1/backups/:id`. */
  readonly path: string;
  readonly handler: string;
  /** Undefined: the route declares nothing and the guard denies it. */
  readonly access: AccessRule | undefined;
}

const join = (...parts: string[]): string => `/${parts.flatMap((p) => p.split('/')).filter(Boolean).join('/')}`;

/** Every route the gateway serves, with the access rule it declares (read from Nest metadata). */
export function declaredRoutes(): DeclaredRoute[] {
  const controllers: Type[] = [HealthController, AuthController, ...FEATURE_MODULES.flatMap((m) => (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, m) as Type[] | undefined) ?? [])];
  const routes: DeclaredRoute[] = [];
  for (const c of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, c) ?? '');
    const classRule = Reflect.getMetadata(ACCESS_KEY, c) as AccessRule | undefined;
    for (const name of Object.getOwnPropertyNames(c.prototype)) {
      const fn = (c.prototype as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      const path = Reflect.getMetadata(PATH_METADATA, fn) as string | undefined;
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod];
      routes.push({ method, path: join(base, path), handler: `${c.name}.${name}`, access: (Reflect.getMetadata(ACCESS_KEY, fn) as AccessRule | undefined) ?? classRule });
    }
  }
  return routes;
}
