import type { MiddlewareHandler } from 'hono';
import { getPath } from 'hono/utils/url';
import type { AppEnv } from '../app-env.ts';
import type { Principal } from '../services/context.ts';

/** synthetic-heart's REST paths (all GET), as this API serves them under /api/v1. */
export const SH_PATH =
  /^\/api\/v1\/(ping|agents|testconfigs\/summary|testruns\/status|plugins\/status|testconfig\/.+|testrun\/.+|plugin\/.+)$/;

/**
 * The request path with repeated slashes folded, as gorilla/mux cleans them for synthetic-heart
 * (its web UI calls `//api/v1/testconfigs/summary`). Only paths that then name an /api/v1 route
 * change; every other path is routed exactly as sent.
 */
export function cleanApiPath(request: Request): string {
  const path = getPath(request);
  if (!path.includes('//')) return path;
  const folded = path.replace(/\/{2,}/g, '/');
  return folded.startsWith('/api/v1/') ? folded : path;
}

/** rs/cors' defaults, which synthetic-heart's API uses (`cors.Default()`). */
const ALLOWED_METHODS = new Set(['GET', 'POST', 'HEAD']);
const ALLOWED_HEADERS = new Set(['origin', 'accept', 'content-type', 'x-requested-with']);

/**
 * With `SH_ANONYMOUS_CLUSTER` set: the synthetic-heart GET routes answer without a token, read as
 * that one cluster (a read-only cluster principal), with synthetic-heart's CORS headers, so its
 * UI and scripts work unchanged. A request that does send a token is authenticated as usual;
 * nothing else opens. Off (a pass-through) when the cluster is unset.
 */
export function shAnonymous(cluster: string | null): {
  cors: MiddlewareHandler<AppEnv>;
  principalFor: (method: string, path: string, hasAuthorization: boolean) => Principal | undefined;
} {
  const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (cluster === null || !SH_PATH.test(c.req.path)) return next();
    const origin = c.req.header('origin');
    if (c.req.method === 'OPTIONS' && origin && c.req.header('access-control-request-method')) {
      // A preflight, answered as rs/cors does: the method and headers asked for, if allowed.
      c.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      const method = (c.req.header('access-control-request-method') ?? '').toUpperCase();
      const asked = (c.req.header('access-control-request-headers') ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      if (!ALLOWED_METHODS.has(method) || asked.some((h) => !ALLOWED_HEADERS.has(h))) return c.body(null, 204);
      c.header('access-control-allow-origin', '*');
      c.header('access-control-allow-methods', method);
      if (asked.length > 0) c.header('access-control-allow-headers', asked.join(', '));
      return c.body(null, 204);
    }
    await next();
    if (origin) {
      c.res.headers.set('access-control-allow-origin', '*');
      c.res.headers.append('vary', 'Origin');
    }
  };
  const principal: Principal | undefined =
    cluster === null ? undefined : { tokenId: 'sh-anonymous', role: 'cluster', cluster, readOnly: true };
  return {
    cors,
    principalFor: (method, path, hasAuthorization) =>
      principal && !hasAuthorization && (method === 'GET' || method === 'HEAD') && SH_PATH.test(path)
        ? principal
        : undefined,
  };
}
