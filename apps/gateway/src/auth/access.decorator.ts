import { SetMetadata, createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { Identity, Permission } from '@tresor/auth';

/** Metadata key of a route's access rule; the AuthGuard denies every route without one. */
export const ACCESS_KEY = 'tresor:access';

export type AccessRule = { kind: 'public' } | { kind: 'authenticated' } | { kind: 'permission'; permission: Permission };

/** The route needs a caller whose roles grant `permission` (see libs/auth/src/roles.ts). */
export const RequirePermission = (permission: Permission) => SetMetadata(ACCESS_KEY, { kind: 'permission', permission } satisfies AccessRule);

/** The route needs any authenticated caller, whatever their roles (who am I, log out). */
export const Authenticated = () => SetMetadata(ACCESS_KEY, { kind: 'authenticated' } satisfies AccessRule);

/** The route needs no credentials (login, refresh, process health probes). Use sparingly. */
export const Public = () => SetMetadata(ACCESS_KEY, { kind: 'public' } satisfies AccessRule);

/** The request's authenticated caller (set by the AuthGuard). */
export interface AuthenticatedRequest {
  identity?: Identity & { sid?: string };
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Injects the caller's identity into a handler parameter. */
export const CurrentIdentity = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthenticatedRequest>().identity);
