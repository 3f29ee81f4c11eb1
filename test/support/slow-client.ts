import { connect } from 'node:net';

export type SlowClientEnd = { closed: boolean; answer: string; bytesSent: number };

/**
 * A slowloris client: opens a connection to 127.0.0.1:`port` and sends a request's header block
 * one byte every `everyMs`, never finishing it. Resolves when the server closes the connection
 * (with what it answered, e.g. a 408), or after `giveUpMs` with `closed: false`.
 */
export function slowHeaders(port: number, opts: { everyMs?: number; giveUpMs?: number } = {}): Promise<SlowClientEnd> {
  const everyMs = opts.everyMs ?? 200;
  const giveUpMs = opts.giveUpMs ?? 40_000;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(1_000_000)}`;
    let sent = 0;
    let answer = '';
    const finish = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closed, answer, bytesSent: sent });
    };
    const timer = setInterval(() => {
      if (!socket.destroyed && sent < head.length) socket.write(head[sent++] as string);
    }, everyMs);
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      answer += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
  });
}
