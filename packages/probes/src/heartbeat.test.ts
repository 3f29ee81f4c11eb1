import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Peer } from '@synthfleet/contracts';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartbeatBytes, isHeartbeatBody, parseByteSize } from './heartbeat-payload.ts';
import { createProbeSet } from './probe-set.ts';
import { runProbe } from './registry.ts';
import { pickRendezvous } from './rendezvous.ts';
import { probeContext } from './testing/context.ts';
import { startHostileTarget } from './testing/hostile-target.ts';

/** Peers: three honest heartbeat servers and one that serves the wrong bytes. */
const servers: http.Server[] = [];
const peers: Peer[] = [];
const hitsBy = new Map<string, number>();

function startPeer(id: string, honest: boolean): Promise<void> {
  const server = http.createServer((req, res) => {
    hitsBy.set(id, (hitsBy.get(id) ?? 0) + 1);
    const n = Number((req.url ?? '').split('/')[2]);
    if (req.method === 'POST') {
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes })));
      return;
    }
    res.end(honest ? heartbeatBytes(n) : Buffer.alloc(n, 'x'));
  });
  servers.push(server);
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () => {
      peers.push({
        agentId: id,
        node: `node-${id}`,
        heartbeatUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      r();
    }),
  );
}

beforeAll(async () => {
  await Promise.all([startPeer('a', true), startPeer('b', true), startPeer('c', true), startPeer('liar', false)]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const probes = createProbeSet({ canPing: false });

describe('heartbeat payload', () => {
  it('is the repeating pattern at any size', () => {
    expect(heartbeatBytes(20).toString()).toBe('0123456789ABCDEF0123');
    for (const n of [1, 15, 16, 17, 1000, 65_536, 1_048_577]) {
      const b = heartbeatBytes(n);
      expect(b.length).toBe(n);
      expect(isHeartbeatBody(b)).toBe(true);
    }
    expect(isHeartbeatBody(Buffer.from('0123456789ABCDEX'))).toBe(false);
  });

  it('parses byte sizes with units and rejects nonsense', () => {
    expect(parseByteSize('64KiB')).toBe(65_536);
    expect(parseByteSize('1MiB')).toBe(1_048_576);
    expect(parseByteSize(1500)).toBe(1500);
    expect(() => parseByteSize('lots')).toThrow('not a byte size');
  });
});

describe('rendezvous choice', () => {
  const ids = Array.from({ length: 200 }, (_, i) => `agent-${i}`);
  it('is stable and bounded, and a departing peer only moves those who chose it', () => {
    const before = new Map(
      ids.map((id) => [
        id,
        pickRendezvous(
          id,
          ids.filter((x) => x !== id),
          3,
          (x) => x,
        ),
      ]),
    );
    for (const chosen of before.values()) expect(chosen).toHaveLength(3);
    const gone = 'agent-7';
    const rest = ids.filter((x) => x !== gone);
    for (const id of rest) {
      const after = pickRendezvous(
        id,
        rest.filter((x) => x !== id),
        3,
        (x) => x,
      );
      const had = before.get(id) ?? [];
      if (!had.includes(gone)) expect(after).toEqual(had);
      else expect(after.filter((x) => had.includes(x))).toHaveLength(2);
    }
  });

  it('spreads load: no agent is probed by far more than k others', () => {
    const load = new Map<string, number>();
    for (const id of ids)
      for (const p of pickRendezvous(
        id,
        ids.filter((x) => x !== id),
        3,
        (x) => x,
      ))
        load.set(p, (load.get(p) ?? 0) + 1);
    expect(Math.max(...load.values())).toBeLessThan(15);
  });
});

describe('heartbeat probe', () => {
  it('fetches each size from at most k peers, never itself, and checks the bytes', async () => {
    const self = peers[0] as Peer;
    const honest = peers.filter((p) => p.agentId !== 'liar');
    const r = await runProbe(
      probes,
      'heartbeat',
      { sizes: [1024, '64KiB'], peers: 2, methods: ['GET', 'POST'] },
      probeContext({ self: { agentId: self.agentId, node: self.node }, peers: honest }),
    );
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([8, 8]);
    expect(r.details._log).not.toContain(self.node);
    expect(r.gauges.filter((g) => g.name === 'heartbeat_latency_seconds')).toHaveLength(8);
  });

  it('fails a peer that serves the wrong bytes', async () => {
    const r = await runProbe(
      probes,
      'heartbeat',
      { sizes: [100], peers: 10 },
      probeContext({ self: { agentId: 'outsider', node: 'n' }, peers }),
    );
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([3, 4]);
    expect(r.details._error).toContain('node-liar 100 B: body is not the heartbeat pattern');
  });

  it('is skipped, not passed, when the agent has no peers', async () => {
    const r = await runProbe(probes, 'heartbeat', {}, probeContext({ peers: [] }));
    expect(r.status).toBe('skipped');
  });

  it('probes explicit targets and reports a dead one', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise((r) => dead.close(r));
    const r = await runProbe(
      probes,
      'heartbeat',
      { targets: [(peers[1] as Peer).heartbeatUrl, deadUrl] },
      probeContext({ peers: [] }),
    );
    expect([r.marks, r.maxMarks]).toEqual([1, 2]);
    expect(r.details._error).toContain('ECONNREFUSED');
  });

  it('reads a target that never stops sending only one byte past the size, then cancels it', async () => {
    const hostile = await startHostileTarget();
    try {
      const r = await runProbe(
        createProbeSet({ canPing: false }),
        'heartbeat',
        { targets: [`${hostile.url}/endless`], sizes: [1024, '64KiB'], methods: ['GET', 'POST'], timeout: '20s' },
        probeContext({ timeoutMs: 30_000 }),
      );
      expect(r.status).toBe('fail');
      expect(r.details._error).toContain('GET http://127.0.0.1:');
      expect(r.details._error).toContain('got more than 1024 bytes');
      expect(r.details._error).toContain('peer read no bytes');
      await waitFor(() => hostile.open() === 0, 10_000, 'hostile.open() toBe(0)');
      expect(hostile.sent).toHaveLength(4);
      for (const bytes of hostile.sent) expect(bytes).toBeLessThan(16 * 1024 * 1024);
    } finally {
      await hostile.close();
    }
  });
});
