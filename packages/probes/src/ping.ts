import { z } from 'zod';
import { Span } from './config.ts';
import { pingBinary, runProcess } from './process.ts';

export { pingBinary } from './process.ts';

import type { Probe, ProbeOutcome } from './types.ts';

export const PingConfig = z.object({
  domain: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'domain must be a host name or an IP address'),
  pings: z.number().int().min(1).max(100).default(3),
  interval: Span.default(1000),
  /** Accepted for synthetic-heart compatibility; the system's ping decides how it gets its socket. */
  privileged: z.boolean().optional(),
  /** How long to wait for each reply. */
  timeout: Span.default(2000),
});
export type PingConfig = z.infer<typeof PingConfig>;

/** The system ping, or undefined when this agent cannot ping (then `ping` is not a capability). */
export function parsePingOutput(text: string): { sent: number; received: number; avgMs?: number; maxMs?: number } {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  const rtt = /(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(text);
  return {
    sent: counts ? Number(counts[1]) : 0,
    received: counts ? Number(counts[2]) : 0,
    avgMs: rtt ? Number(rtt[2]) : undefined,
    maxMs: rtt ? Number(rtt[3]) : undefined,
  };
}

export const ping: Probe<PingConfig> = {
  plugin: 'ping',
  config: PingConfig,
  async run(config, ctx): Promise<ProbeOutcome> {
    const bin = pingBinary();
    if (bin === undefined) {
      return { marks: 0, maxMarks: config.pings, status: 'error', log: [], error: 'this agent has no ping program' };
    }
    const interval = Math.max(0.2, config.interval / 1000);
    const wait = Math.max(1, Math.ceil(config.timeout / 1000));
    const args = ['-n', '-c', String(config.pings), '-i', String(interval), '-W', String(wait), config.domain];
    const out = await runProcess(bin, args, { signal: ctx.signal });
    const parsed = parsePingOutput(out.stdout);
    const log = [`${bin} ${args.join(' ')}`, ...out.stdout.trim().split('\n').slice(-3)];
    if (parsed.sent === 0) {
      return {
        marks: 0,
        maxMarks: config.pings,
        status: 'error',
        log,
        error: `ping ${config.domain} failed: ${(out.stderr || out.stdout).trim().split('\n')[0] ?? `exit ${out.code}`}`,
      };
    }
    const gauges = [
      { name: 'ping_packet_loss_ratio', value: 1 - parsed.received / parsed.sent, labels: { domain: config.domain } },
    ];
    if (parsed.avgMs !== undefined) {
      gauges.push({ name: 'ping_rtt_avg_seconds', value: parsed.avgMs / 1000, labels: { domain: config.domain } });
    }
    const lost = config.pings - parsed.received;
    return {
      marks: Math.min(parsed.received, config.pings),
      maxMarks: config.pings,
      log,
      error: lost > 0 ? `${config.domain}: ${lost} of ${config.pings} pings got no reply` : undefined,
      gauges,
    };
  },
};
