import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';
import { unauthorized } from './errors.ts';
import type { Principal, ServiceContext } from './services/context.ts';
import { authenticate } from './services/tokens.ts';

const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 20_000;

/** Resolves a token's secret to its principal, or throws 401. */
export type PrincipalResolver = (secret: string) => Promise<Principal>;

/**
 * Lookups are cached for a few seconds so a fleet of agents (or a dashboard refreshing) does not
 * hash-and-query on every request; a revoked token stops working within the TTL.
 */
export function createPrincipalResolver(ctx: ServiceContext): PrincipalResolver {
  const cache = new Map<string, { principal: Principal; until: number }>();
  return async (secret) => {
    const now = ctx.clock.now();
    let hit = cache.get(secret);
    if (!hit || hit.until < now) {
      const principal = await authenticate(ctx, secret);
      if (cache.size >= CACHE_MAX) cache.clear();
      hit = { principal, until: now + CACHE_TTL_MS };
      cache.set(secret, hit);
    }
    return hit.principal;
  };
}

/** A token's secret as both the header and the dashboard's cookie accept it. */
export const TOKEN_SECRET = /^\S{8,512}$/;

/**
 * Resolves `Authorization: Bearer …` to a principal. `anonymous` may name the principal of a
 * request without the header (synthetic-heart's token-less readers, when the operator allows them).
 */
export function requireAuth(
  resolve: PrincipalResolver,
  anonymous?: (method: string, path: string, hasAuthorization: boolean) => Principal | undefined,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const open = anonymous?.(c.req.method, c.req.path, header !== undefined);
    if (open) {
      c.set('principal', open);
      await next();
      return;
    }
    if (!header) throw unauthorized('missing Authorization header; send "Authorization: Bearer <token>"');
    const m = /^Bearer\s+(\S{8,512})\s*$/i.exec(header);
    if (!m?.[1]) throw unauthorized('the Authorization header must be "Bearer <token>"');
    c.set('principal', await resolve(m[1]));
    await next();
  };
}
