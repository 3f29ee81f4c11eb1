import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeSet } from './probe-set.ts';
import { runProbe } from './registry.ts';
import { probeContext } from './testing/context.ts';

let tcp: net.Server;
let udp: dgram.Socket;
let tcpPort = 0;
let udpPort = 0;
let closedPort = 0;

beforeAll(async () => {
  tcp = net.createServer((s) => s.end());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  tcpPort = (tcp.address() as net.AddressInfo).port;
  udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  udpPort = udp.address().port;
  const spare = net.createServer();
  await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
  closedPort = (spare.address() as net.AddressInfo).port;
  await new Promise((r) => spare.close(r));
});
afterAll(async () => {
  udp.close();
  await new Promise((r) => tcp.close(r));
});

const probes = createProbeSet({ canPing: false });

describe('netDial', () => {
  it('marks each reachable address, TCP and UDP', async () => {
    const r = await runProbe(
      probes,
      'netDial',
      `addresses:\n  - addr: 127.0.0.1:${tcpPort}\n    net: tcp\n    timeout: 2\n  - addr: 127.0.0.1:${udpPort}\n    net: udp\n`,
      probeContext(),
    );
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([2, 2]);
  });

  it('fails refused TCP and UDP ports (ICMP port unreachable)', async () => {
    const r = await runProbe(
      probes,
      'netDial',
      {
        addresses: [
          { addr: `127.0.0.1:${closedPort}` },
          { addr: `127.0.0.1:${closedPort}`, net: 'udp' },
          { addr: `127.0.0.1:${tcpPort}` },
        ],
      },
      probeContext(),
    );
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([1, 3]);
    expect(r.details._error).toMatch(new RegExp(`tcp 127.0.0.1:${closedPort}: [^;]*ECONNREFUSED`));
    expect(r.details._error).toMatch(new RegExp(`udp 127.0.0.1:${closedPort}: [^;]*ECONNREFUSED`));
  });

  it('rethrows when the run is cancelled, so the agent can record a timeout', async () => {
    const ctl = new AbortController();
    ctl.abort(new DOMException('run timed out', 'TimeoutError'));
    await expect(
      runProbe(
        probes,
        'netDial',
        { addresses: [{ addr: `127.0.0.1:${tcpPort}` }] },
        probeContext({ signal: ctl.signal }),
      ),
    ).rejects.toThrow('run timed out');
  });

  it('names a malformed address', async () => {
    const r = await runProbe(probes, 'netDial', { addresses: [{ addr: 'no-port' }] }, probeContext());
    expect(r.status).toBe('error');
    expect(r.details._error).toContain('config.addresses.0.addr: addr must look like host:port');
  });
});
