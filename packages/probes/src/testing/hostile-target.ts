import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Upper bound on what one endless answer sends, so a broken client test still ends by itself. */
const ENDLESS_LIMIT = 4 * 1024 ** 3;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

export type HostileTarget = {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Bytes each finished `/endless` answer had written when its client went away, in order. */
  sent: number[];
  /** How many answers of each path are still being written. */
  open(): number;
  close(): Promise<void>;
};

/**
 * A target that misbehaves the way an outside test found: `/endless` (any path below it too) sends
 * a 200 body that never ends, as fast as the client reads; `/slow-headers` sends its header block
 * one byte every 50 ms and never finishes it. Both stop when the client goes away, and `sent`
 * says how much the client made the server write before it did.
 */
export async function startHostileTarget(): Promise<HostileTarget> {
  const sent: number[] = [];
  let open = 0;
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (path.startsWith('/endless')) {
      open++;
      let bytes = 0;
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = () => {
        while (bytes < ENDLESS_LIMIT && !res.destroyed) {
          bytes += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        open--;
        sent.push(bytes);
      });
      pump();
      return;
    }
    if (path === '/slow-headers') {
      open++;
      const socket = req.socket;
      const head = `HTTP/1.1 200 OK\r\nx-slow: ${'a'.repeat(100_000)}`;
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || i >= head.length) return void clearInterval(timer);
        socket.write(head[i++] as string);
      }, 50);
      socket.on('close', () => {
        clearInterval(timer);
        open--;
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    open: () => open,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
