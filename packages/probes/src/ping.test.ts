import { describe, expect, it } from 'vitest';
import { parsePingOutput, pingBinary } from './ping.ts';
import { createProbeSet } from './probe-set.ts';
import { runProbe } from './registry.ts';
import { probeContext } from './testing/context.ts';

describe('ping', () => {
  it('parses iputils and busybox summaries', () => {
    expect(
      parsePingOutput(
        '3 packets transmitted, 2 received, 33% packet loss, time 2003ms\nrtt min/avg/max/mdev = 0.041/0.052/0.063/0.011 ms',
      ),
    ).toEqual({ sent: 3, received: 2, avgMs: 0.052, maxMs: 0.063 });
    expect(
      parsePingOutput(
        '2 packets transmitted, 2 packets received, 0% packet loss\nround-trip min/avg/max = 0.1/0.2/0.3 ms',
      ),
    ).toEqual({
      sent: 2,
      received: 2,
      avgMs: 0.2,
      maxMs: 0.3,
    });
  });

  it('is not a capability of an agent that cannot ping, and says so when assigned', async () => {
    const probes = createProbeSet({ canPing: false });
    expect(probes.has('ping')).toBe(false);
    const r = await runProbe(probes, 'ping', { domain: '127.0.0.1' }, probeContext());
    expect(r.status).toBe('unsupported');
    expect(r.details._error).toContain('not offered by this agent');
  });

  // The test setup installs iputils-ping; the probe itself reports a missing binary as above.
  it.runIf(pingBinary() !== undefined)('pings 127.0.0.1 with the system ping: one mark per reply', async () => {
    const probes = createProbeSet();
    const r = await runProbe(
      probes,
      'ping',
      'domain: 127.0.0.1\npings: 2\ninterval: 0.2\nprivileged: true',
      probeContext(),
    );
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([2, 2]);
    expect(r.gauges.find((g) => g.name === 'ping_packet_loss_ratio')?.value).toBe(0);
  });

  it.runIf(pingBinary() !== undefined)('reports an unresolvable host as an error', async () => {
    const r = await runProbe(createProbeSet(), 'ping', { domain: 'no-such-host.invalid', pings: 1 }, probeContext());
    expect(r.status).toBe('error');
    expect(r.details._error).toContain('ping no-such-host.invalid failed');
  });
});
