import { redactUrl } from './client.ts';

type Described = { kind: 'unauthorized' | 'unreachable' | 'tls' | 'invalid-url' | 'server' | 'failed'; line: string };

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function chain(err: unknown): { code?: string; message: string; status?: number; name?: string }[] {
  const out: { code?: string; message: string; status?: number; name?: string }[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const x = e as { code?: unknown; message?: unknown; status?: unknown; name?: unknown; cause?: unknown };
    out.push({
      code: typeof x.code === 'string' ? x.code : undefined,
      message: typeof x.message === 'string' ? x.message : String(e),
      status: typeof x.status === 'number' ? x.status : undefined,
      name: typeof x.name === 'string' ? x.name : undefined,
    });
    e = x.cause;
  }
  return out;
}

/**
 * One line that says why talking to a libSQL database failed, for every error class the libSQL
 * client reports: the server refused the token, it could not be reached, TLS failed, the URL is
 * not one, or the server answered with an error. The URL is shown without credentials.
 */
export function describeDatabaseError(err: unknown, url: string): Described {
  const where = redactUrl(url);
  const links = chain(err);
  const codes = links.map((l) => l.code ?? '');
  const text = links.map((l) => l.message).join(' | ');
  const detail = links.at(-1)?.message.split('\n')[0] ?? 'unknown error';
  const status =
    links.find((l) => l.status !== undefined)?.status ?? Number(/HTTP status (\d{3})/.exec(text)?.[1] ?? 0);
  if (status === 401 || status === 403 || /authenticat|unauthori[sz]ed|forbidden|invalid token|jwt/i.test(text)) {
    return {
      kind: 'unauthorized',
      line: `unauthorized: ${where} refused the credentials (check DATABASE_AUTH_TOKEN): ${detail}`,
    };
  }
  if (
    codes.some((c) => /^(ERR_SSL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|EPROTO$)/.test(c)) ||
    /certificate|ssl routines|tls/i.test(text)
  ) {
    // OpenSSL's text is "…:SSL routines:function:reason:file:line": the reason is what helps.
    const reason = /routines:[^:]*:([^:]+)/.exec(detail)?.[1] ?? detail;
    const code = codes.find((c) => c);
    return { kind: 'tls', line: `TLS failed talking to ${where}${code ? ` (${code})` : ''}: ${reason}` };
  }
  if (
    codes.some((c) => c === 'ERR_INVALID_URL' || c === 'URL_INVALID' || c === 'URL_SCHEME_NOT_SUPPORTED') ||
    links[0]?.name === 'DatabaseUrlError'
  ) {
    return { kind: 'invalid-url', line: `DATABASE_URL is not a usable libSQL URL (${where}): ${detail}` };
  }
  if (codes.some((c) => UNREACHABLE.has(c)) || /fetch failed|bad port|socket hang up|network/i.test(text)) {
    const code = codes.find((c) => UNREACHABLE.has(c));
    return {
      kind: 'unreachable',
      line: `unreachable: cannot connect to ${where}${code ? ` (${code})` : ''}: ${detail}`,
    };
  }
  if (status >= 500) return { kind: 'server', line: `the server at ${where} answered HTTP ${status}: ${detail}` };
  return { kind: 'failed', line: `talking to ${where} failed: ${links[0]?.message.split('\n')[0] ?? detail}` };
}
