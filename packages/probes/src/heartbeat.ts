import type { Gauge } from '@synthfleet/contracts';
import { z } from 'zod';
import { Span } from './config.ts';
import { heartbeatBytes, isHeartbeatBody, parseByteSize } from './heartbeat-payload.ts';
import { pickRendezvous } from './rendezvous.ts';
import type { Probe, ProbeContext, ProbeOutcome } from './types.ts';
import { errorMessage, httpFor, seconds, timeoutSignal } from './util.ts';

const ByteSize = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const n = parseByteSize(v);
    if (n < 1) throw new Error('a size must be at least 1 byte');
    return n;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const HeartbeatConfig = z.object({
  /** Payload sizes to fetch from each peer (bytes, or "64KiB"-style). */
  sizes: z.array(ByteSize).min(1).max(16).default([1024]),
  /** How many peers each agent probes, chosen by rendezvous hashing. */
  peers: z.number().int().min(0).max(100).default(3),
  /** GET downloads and checks the pattern; POST uploads a body the peer reports having read. */
  methods: z
    .array(z.enum(['GET', 'POST']))
    .min(1)
    .default(['GET']),
  timeout: Span.default(5000),
  /** Fail a mark whose request takes longer than this. */
  maxLatency: Span.optional(),
  /** Probe these base URLs instead of mesh peers (e.g. a service in front of agents). */
  targets: z
    .array(z.url({ protocol: /^https?$/ }))
    .max(100)
    .optional(),
});
export type HeartbeatConfig = z.infer<typeof HeartbeatConfig>;

type Target = { id: string; label: string; base: string };

/** A POST's answer is a short JSON line (`{"bytes":N}`); anything longer is not a heartbeat peer. */
const MAX_POST_ANSWER = 4096;

/**
 * One heartbeat request. The body is read up to one byte past what a heartbeat peer sends (the
 * size asked for, or a short JSON answer), then the request is cancelled: a target (`targets` is
 * spec-chosen) that sends more cannot grow the agent's memory or hold the run.
 */
function exchange(url: URL, method: 'GET' | 'POST', size: number, signal: AbortSignal) {
  const lib = httpFor(url);
  const limit = (method === 'GET' ? size : MAX_POST_ANSWER) + 1;
  return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = lib.request(url, { method, signal, headers: method === 'POST' ? { 'content-length': size } : {} });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let read = 0;
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      };
      res.on('data', (c: Buffer) => {
        if (done) return;
        const part = c.subarray(0, limit - read);
        chunks.push(part);
        read += part.length;
        if (read >= limit) {
          end();
          req.destroy();
        }
      });
      res.on('end', end);
      res.on('error', (err) => {
        if (!done) reject(err);
      });
    });
    req.on('error', reject);
    req.end(method === 'POST' ? heartbeatBytes(size) : undefined);
  });
}

async function probeOne(t: Target, method: 'GET' | 'POST', size: number, config: HeartbeatConfig, ctx: ProbeContext) {
  const url = new URL(`heartbeat/${size}`, t.base.endsWith('/') ? t.base : `${t.base}/`);
  const started = performance.now();
  const where = `${method} ${t.label} ${size} B`;
  try {
    const res = await exchange(url, method, size, timeoutSignal(ctx.signal, config.timeout));
    const ms = performance.now() - started;
    let problem: string | undefined;
    if (res.status !== 200) problem = `status ${res.status}`;
    else if (method === 'GET' && res.body.length > size) problem = `got more than ${size} bytes`;
    else if (method === 'GET' && res.body.length !== size) problem = `got ${res.body.length} bytes`;
    else if (method === 'GET' && !isHeartbeatBody(res.body)) problem = 'body is not the heartbeat pattern';
    else if (method === 'POST') {
      let read: number | undefined;
      try {
        read = (JSON.parse(res.body.toString('utf8') || '{}') as { bytes?: number }).bytes;
      } catch {
        read = undefined;
      }
      if (read !== size) problem = `peer read ${read ?? 'no'} bytes`;
    }
    if (!problem && config.maxLatency !== undefined && ms > config.maxLatency) {
      problem = `took ${ms.toFixed(1)} ms, over ${config.maxLatency} ms`;
    }
    return { ok: !problem, line: `${where}: ${problem ?? 'ok'} in ${ms.toFixed(1)} ms`, ms };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return { ok: false, line: `${where}: ${errorMessage(err)}`, ms: performance.now() - started };
  }
}

export const heartbeat: Probe<HeartbeatConfig> = {
  plugin: 'heartbeat',
  config: HeartbeatConfig,
  async run(config, ctx): Promise<ProbeOutcome> {
    const targets: Target[] = config.targets
      ? config.targets.map((u) => ({ id: u, label: u, base: u }))
      : pickRendezvous(
          ctx.self.agentId,
          ctx.peers.filter((p) => p.agentId !== ctx.self.agentId),
          config.peers,
          (p) => p.agentId,
        ).map((p) => ({ id: p.agentId, label: p.node, base: p.heartbeatUrl }));
    if (targets.length === 0) {
      return {
        marks: 0,
        maxMarks: 0,
        status: 'skipped',
        log: ['no peers to probe: this agent is alone in its cluster'],
      };
    }
    const jobs = targets.flatMap((t) => config.methods.flatMap((m) => config.sizes.map((s) => ({ t, m, s }))));
    // One peer at a time per size keeps a 1 MiB mesh from saturating the node's own link.
    const results = [];
    for (const j of jobs) results.push({ ...j, r: await probeOne(j.t, j.m, j.s, config, ctx) });
    const gauges: Gauge[] = [];
    for (const { t, m, s, r } of results) {
      if (!r.ok) continue;
      const labels = { peer: t.label, size: String(s), method: m };
      gauges.push({ name: 'heartbeat_latency_seconds', value: seconds(r.ms), labels });
      gauges.push({
        name: 'heartbeat_throughput_bytes_per_second',
        value: Math.round(s / Math.max(r.ms / 1000, 1e-6)),
        labels,
      });
    }
    const failed = results.filter((x) => !x.r.ok).map((x) => x.r.line);
    return {
      marks: results.length - failed.length,
      maxMarks: results.length,
      log: results.map((x) => x.r.line),
      error: failed.length ? failed.join('; ') : undefined,
      gauges,
    };
  },
};
