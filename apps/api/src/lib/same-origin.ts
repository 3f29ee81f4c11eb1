import type { MiddlewareHandler } from 'hono';
import { forbidden } from '../errors.ts';

/** Methods that change nothing: neither checked for their origin nor charged to a writer's quota. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a state-changing request came from another site, or undefined when it did not. SameSite
 * keeps the session cookie off a cross-site post, but a cross-site post can still *set* one (sign
 * the victim in as the attacker) or clear it (sign them out), so every unsafe method is checked.
 * Browsers send `Sec-Fetch-Site` (all current ones) or at least `Origin` on such requests; a
 * request with neither is not from a browser page (curl, the agent, the syncer) and carries no
 * ambient credential we honour: the API reads tokens only from the Authorization header.
 */
export function crossSiteReason(
  method: string,
  headers: { get(name: string): string | null | undefined },
  url: string,
) {
  if (SAFE_METHODS.has(method)) return undefined;
  const site = headers.get('sec-fetch-site');
  if (site) return site === 'same-origin' || site === 'none' ? undefined : `Sec-Fetch-Site is "${site}"`;
  const origin = headers.get('origin');
  if (!origin) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `Origin "${origin}" is not this site`;
  }
  // The host alone: behind a TLS-terminating proxy this server sees http while the page was https.
  const expected = headers.get('host') ?? new URL(url).host;
  return host === expected ? undefined : `Origin "${origin}" is not this site`;
}

/** Refuses cross-site state-changing requests (every form route, present and future) with a 403. */
export function sameOrigin(): MiddlewareHandler {
  return async (c, next) => {
    const why = crossSiteReason(c.req.method, { get: (n) => c.req.header(n) }, c.req.url);
    if (why) throw forbidden(`cross-site request refused: ${why}`);
    await next();
  };
}
