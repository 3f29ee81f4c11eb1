import { promises as dns } from 'node:dns';
import { z } from 'zod';
import { Span } from './config.ts';
import type { Probe, ProbeContext, ProbeOutcome } from './types.ts';
import { errorMessage, mapLimit, seconds } from './util.ts';

const RecordType = z.enum(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'TXT', 'SRV', 'PTR']);

const Domain = z.union([
  z.string().min(1),
  z.object({
    name: z.string().min(1),
    type: RecordType.optional(),
    expect: z.array(z.string()).optional(),
  }),
]);

export const DnsConfig = z.object({
  domains: z.array(Domain).min(1, 'give at least one domain'),
  repeats: z.number().int().min(1).max(100).default(1),
  workers: z.number().int().min(1).max(64).default(4),
  /** `host` or `host:port` of a resolver to ask; the system resolver (with /etc/hosts) when unset. */
  server: z.string().optional(),
  type: RecordType.default('A'),
  /** Every listed value must be among the answers (for each domain without its own `expect`). */
  expect: z.array(z.string()).optional(),
  timeout: Span.default(2000),
});
export type DnsConfig = z.infer<typeof DnsConfig>;

type Query = { name: string; type: z.infer<typeof RecordType>; expect?: string[] };

function flatten(records: unknown[]): string[] {
  return records.map((r) => {
    if (typeof r === 'string') return r;
    if (Array.isArray(r)) return r.join('');
    if (r && typeof r === 'object') {
      const o = r as Record<string, unknown>;
      if ('exchange' in o) return String(o.exchange);
      if ('name' in o && 'port' in o) return `${o.name}:${o.port}`;
    }
    return JSON.stringify(r);
  });
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOTFOUND') return 'NXDOMAIN (name does not exist)';
  if (code === 'ENODATA') return 'no records of that type';
  if (code === 'ETIMEOUT' || code === 'ETIMEDOUT') return 'timed out';
  if (code === 'ECONNREFUSED') return 'resolver refused the connection';
  return errorMessage(err);
}

async function resolveOnce(q: Query, config: DnsConfig, ctx: ProbeContext): Promise<string[]> {
  if (config.server === undefined && (q.type === 'A' || q.type === 'AAAA')) {
    const found = await dns.lookup(q.name, { all: true, family: q.type === 'A' ? 4 : 6 });
    return found.map((a) => a.address);
  }
  const resolver = new dns.Resolver({ timeout: config.timeout, tries: 1 });
  if (config.server !== undefined) resolver.setServers([config.server]);
  const onAbort = () => resolver.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return flatten((await resolver.resolve(q.name, q.type)) as unknown[]);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

export const dnsProbe: Probe<DnsConfig> = {
  plugin: 'dns',
  config: DnsConfig,
  async run(config, ctx): Promise<ProbeOutcome> {
    const queries: Query[] = config.domains.map((d) =>
      typeof d === 'string'
        ? { name: d, type: config.type, expect: config.expect }
        : { name: d.name, type: d.type ?? config.type, expect: d.expect ?? config.expect },
    );
    const jobs = Array.from({ length: config.repeats }, () => queries).flat();
    const log: string[] = [];
    const errors = new Set<string>();
    const latency = new Map<string, number>();
    const results = await mapLimit(jobs, config.workers, async (q) => {
      const started = performance.now();
      try {
        const answers = await resolveOnce(q, config, ctx);
        const ms = performance.now() - started;
        latency.set(q.name, Math.max(latency.get(q.name) ?? 0, ms));
        const missing = (q.expect ?? []).filter((v) => !answers.includes(v));
        if (missing.length > 0) {
          const msg = `${q.name} ${q.type}: answers [${answers.join(', ')}] lack ${missing.join(', ')}`;
          log.push(msg);
          errors.add(msg);
          return false;
        }
        log.push(`${q.name} ${q.type}: ${answers.join(', ')} in ${ms.toFixed(1)} ms`);
        return true;
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const msg = `${q.name} ${q.type}: ${describe(err)}`;
        log.push(msg);
        errors.add(msg);
        return false;
      }
    });
    return {
      marks: results.filter(Boolean).length,
      maxMarks: jobs.length,
      log,
      error: errors.size ? [...errors].join('; ') : undefined,
      gauges: [
        ...[...latency].map(([domain, ms]) => ({
          name: 'dns_lookup_seconds',
          value: seconds(ms),
          labels: { domain },
        })),
        // synthetic-heart's own: successful resolutions per domain, out of `repeats`.
        ...queries.map((q) => ({
          name: 'dns_repeat_count',
          help: `Number of Successful resolutions (out of ${config.repeats})`,
          value: jobs.filter((j, i) => j === q && results[i]).length,
          labels: { domain: q.name },
        })),
      ],
    };
  },
};
