import net from 'node:net';

/** A port on 127.0.0.1 that was free a moment ago, for programs that cannot listen on port 0. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    // Something else on this machine answers on 18080–18082.
    if (port < 18080 || port > 18082) return port;
  }
}
