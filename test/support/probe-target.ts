import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProbeTarget = {
  /** `127.0.0.1:PORT`, for probe configs. */
  url: string;
  /** Requests seen, per path. */
  hits: Map<string, number>;
  close(): void;
};

/** The thing the probes test, on 127.0.0.1: counts hits per path; `/hang` never answers. */
export async function startProbeTarget(): Promise<ProbeTarget> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/hang') return;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
