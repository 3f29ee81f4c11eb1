import type http from 'node:http';
import { httpFor } from '@synthfleet/probes/util';

export type Answer = { status: number; statusText: string; text: string; headers: http.IncomingHttpHeaders };

/**
 * One HTTP request on node:http(s), and its answer. Not fetch: undici costs the agent ~5 MB of heap for the few
 * kinds of request it makes, and every node counts. The answer's text is kept up to `maxChars`
 * (a webhook's answer is shown, not trusted to be small); without it, all of it.
 */
export function httpRequest(
  url: URL,
  init: { method: string; body?: string; headers: Record<string, string>; signal: AbortSignal; maxChars?: number },
  agent?: http.Agent,
): Promise<Answer> {
  const lib = httpFor(url);
  const max = init.maxChars ?? Number.POSITIVE_INFINITY;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method: init.method, headers: init.headers, signal: init.signal, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (text.length < max) text += c;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          text: text.slice(0, max),
          headers: res.headers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
