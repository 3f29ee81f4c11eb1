import dgram from 'node:dgram';
import net from 'node:net';
import { z } from 'zod';
import { Span } from './config.ts';
import type { Probe, ProbeContext, ProbeOutcome } from './types.ts';
import { errorMessage, seconds } from './util.ts';

const Address = z.object({
  addr: z.string().regex(/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/, 'addr must look like host:port'),
  net: z.enum(['tcp', 'tcp4', 'tcp6', 'udp', 'udp4', 'udp6']).default('tcp'),
  /** synthetic-heart gives seconds as a number; a Go duration works too. */
  timeout: Span.default(3000),
});

export const NetDialConfig = z.object({
  addresses: z.array(Address).min(1, 'give at least one address'),
});
export type NetDialConfig = z.infer<typeof NetDialConfig>;
type Address = z.infer<typeof Address>;

function split(addr: string): { host: string; port: number } {
  const at = addr.lastIndexOf(':');
  return { host: addr.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(addr.slice(at + 1)) };
}

function dialTcp(a: Address, signal: AbortSignal): Promise<void> {
  const { host, port } = split(a.addr);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, family: a.net.endsWith('6') ? 6 : a.net.endsWith('4') ? 4 : 0 });
    const timer = setTimeout(() => done(new Error(`no connection within ${a.timeout} ms`)), a.timeout);
    const onAbort = () => done(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    function done(err?: Error) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    }
    socket.once('connect', () => done());
    socket.once('error', (err) => done(err));
  });
}

/**
 * UDP has no handshake: send one datagram on a connected socket and listen briefly for the ICMP
 * "port unreachable" the kernel reports as ECONNREFUSED. Silence counts as reachable, as with Go's
 * net.Dial("udp", …) that synthetic-heart uses.
 */
function dialUdp(a: Address, signal: AbortSignal): Promise<void> {
  const { host, port } = split(a.addr);
  const type = a.net === 'udp6' || (a.net === 'udp' && host.includes(':')) ? 'udp6' : 'udp4';
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(type);
    const listen = Math.min(a.timeout, 250);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => done(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    function done(err?: Error) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve();
    }
    socket.once('error', (err) => done(err));
    socket.connect(port, host, () => {
      socket.send(Buffer.alloc(0), (err) => {
        if (err) return done(err);
        timer = setTimeout(() => done(), listen);
      });
    });
  });
}

async function dial(a: Address, ctx: ProbeContext): Promise<{ ok: boolean; line: string; ms: number }> {
  ctx.signal.throwIfAborted();
  const started = performance.now();
  try {
    await (a.net.startsWith('udp') ? dialUdp(a, ctx.signal) : dialTcp(a, ctx.signal));
    const ms = performance.now() - started;
    return { ok: true, line: `${a.net} ${a.addr}: reachable in ${ms.toFixed(1)} ms`, ms };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const ms = performance.now() - started;
    return { ok: false, line: `${a.net} ${a.addr}: ${errorMessage(err)}`, ms };
  }
}

export const netDial: Probe<NetDialConfig> = {
  plugin: 'netDial',
  config: NetDialConfig,
  async run(config, ctx): Promise<ProbeOutcome> {
    const results = await Promise.all(config.addresses.map((a) => dial(a, ctx)));
    const failed = results.filter((r) => !r.ok).map((r) => r.line);
    return {
      marks: results.length - failed.length,
      maxMarks: results.length,
      log: results.map((r) => r.line),
      error: failed.length ? failed.join('; ') : undefined,
      gauges: results.flatMap((r, i) => {
        const labels = { addr: config.addresses[i]?.addr ?? '', net: config.addresses[i]?.net ?? '' };
        return [
          { name: 'net_dial_seconds', value: seconds(r.ms), labels },
          // synthetic-heart's own: 0/1, and the dial's duration in ns (0 when it failed, as there).
          { name: 'net_dial', help: 'Whether Net dial was successful', value: r.ok ? 1 : 0, labels },
          {
            name: 'net_dial_duration_ns',
            help: 'Duration of the net.Dial() call',
            value: r.ok ? Math.round(r.ms * 1e6) : 0,
            labels,
          },
        ];
      }),
    };
  },
};
