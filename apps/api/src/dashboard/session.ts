import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { TOKEN_SECRET } from '../auth.ts';

/** The dashboard keeps the token in this cookie: HttpOnly (no script reads it), this site only. */
export const SESSION_COOKIE = 'synthfleet_token';
const SESSION_SECONDS = 12 * 3600;

export function sessionSecret(c: Context): string | undefined {
  const v = getCookie(c, SESSION_COOKIE);
  return v !== undefined && TOKEN_SECRET.test(v) ? v : undefined;
}

export function startSession(c: Context, secret: string): void {
  setCookie(c, SESSION_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    maxAge: SESSION_SECONDS,
    // Behind TLS the cookie never travels in clear; on plain loopback it must still work.
    secure: new URL(c.req.url).protocol === 'https:',
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/**
 * A plain path on this site: `/`, then only the printable characters a URL path and query may hold
 * unescaped. No `//host` or `/\\host`, no backslash anywhere, no tab, CR or LF (browsers drop a tab,
 * turning `/\t/evil.example` into `//evil.example`; CR or LF cannot go in a Location header).
 */
const SAME_SITE_PATH = /^\/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;

/** Where to go after signing in: a plain same-site path, anything else `/`. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000 || !SAME_SITE_PATH.test(next)) return '/';
  return next;
}
