/**
 * The few Prometheus families the agent keeps (gauges and counters with labels), written in the
 * text exposition format for `/metrics` and pushed to a Pushgateway. Not prom-client: with its
 * default-metrics, cluster, https and zlib modules it costs an idle agent ~5 MB of RSS for what
 * these hundred lines do.
 */
import { formatLabels, METRICS_CONTENT_TYPE, PROM_LABEL_NAME, PROM_METRIC_NAME } from '@synthfleet/contracts/prom-text';
import { httpRequest } from './http-request.ts';

type Labels<L extends string> = Partial<Record<L, string | number>>;
/** What a registry holds: a family of any label names. */
type AnyFamily = { readonly name: string; text(): string };

const formatValue = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Number.POSITIVE_INFINITY ? '+Inf' : v === Number.NEGATIVE_INFINITY ? '-Inf' : `${v}`;
const escapeHelp = (h: string) => h.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

abstract class Family<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: 'gauge' | 'counter';
  /** Series by their label values in labelNames' order (joined by NUL, which no value holds unescaped). */
  protected readonly series = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly collect?: () => void;

  constructor(o: {
    name: string;
    help: string;
    labelNames?: readonly L[];
    registers: Registry[];
    collect?: () => void;
  }) {
    if (!PROM_METRIC_NAME.test(o.name)) throw new Error(`invalid metric name "${o.name}"`);
    for (const l of o.labelNames ?? [])
      if (!PROM_LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`${o.name}: invalid label name "${l}"`);
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames ?? [];
    this.collect = o.collect;
    for (const r of o.registers) r.register(this);
  }

  private entry(labels: Labels<L> = {}) {
    const values: Record<string, string> = {};
    for (const k of Object.keys(labels))
      if (!this.labelNames.includes(k as L)) throw new Error(`${this.name}: label "${k}" was not declared`);
    for (const l of this.labelNames) values[l] = String(labels[l] ?? '');
    const key = this.labelNames.map((l) => values[l]).join('\0');
    return { key, values };
  }

  protected put(labels: Labels<L> | undefined, f: (old: number) => number): void {
    const { key, values } = this.entry(labels);
    const s = this.series.get(key);
    if (s) s.value = f(s.value);
    else this.series.set(key, { labels: values, value: f(0) });
  }

  remove(labels: Labels<L>): void {
    this.series.delete(this.entry(labels).key);
  }

  /** This family in the text format. A family without labels shows 0 before it is first set. */
  text(): string {
    this.collect?.();
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    if (this.series.size === 0 && this.labelNames.length === 0) return `${out}${this.name} 0\n`;
    for (const s of this.series.values())
      out += `${this.name}${this.labelNames.length ? formatLabels(s.labels) : ''} ${formatValue(s.value)}\n`;
    return out;
  }
}

export class Gauge<L extends string = never> extends Family<L> {
  readonly type = 'gauge';
  set(labels: Labels<L>, value: number): void;
  set(value: number): void;
  set(a: Labels<L> | number, b?: number): void {
    const value = typeof a === 'number' ? a : (b as number);
    this.put(typeof a === 'number' ? undefined : a, () => value);
  }
}

export class Counter<L extends string = never> extends Family<L> {
  readonly type = 'counter';
  inc(labels?: Labels<L> | number, by = 1): void {
    const n = typeof labels === 'number' ? labels : by;
    if (!(n >= 0)) throw new Error(`${this.name}: a counter cannot go down (${n})`);
    this.put(typeof labels === 'number' ? undefined : labels, (old) => old + n);
  }
}

export class Registry {
  readonly contentType = METRICS_CONTENT_TYPE;
  private readonly families = new Map<string, AnyFamily>();

  register(f: AnyFamily): void {
    if (this.families.has(f.name)) throw new Error(`a metric named "${f.name}" is already registered`);
    this.families.set(f.name, f);
  }

  async metrics(): Promise<string> {
    let out = '';
    for (const f of this.families.values()) out += f.text();
    return out;
  }
}

/**
 * PUT the registry to a Pushgateway under `/metrics/job/<job>/<label>/<value>…`: the group's
 * series are replaced, so those no longer in the registry leave the gateway too. A value holding
 * a `/` (or empty) goes base64url-encoded with the gateway's `@base64` suffix.
 */
export async function pushToGateway(
  url: string,
  registry: Registry,
  job: string,
  grouping: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  const segment = (k: string, v: string) =>
    v === '' || v.includes('/')
      ? `/${k}@base64/${Buffer.from(v).toString('base64url') || '='}`
      : `/${encodeURIComponent(k)}/${encodeURIComponent(v)}`;
  const base = url.replace(/\/+$/, '');
  const path = [segment('job', job), ...Object.entries(grouping).map(([k, v]) => segment(k, v))].join('');
  const body = await registry.metrics();
  const answer = await httpRequest(new URL(`${base}/metrics${path}`), {
    method: 'PUT',
    body,
    headers: { 'content-type': registry.contentType, 'content-length': String(Buffer.byteLength(body)) },
    signal: AbortSignal.timeout(timeoutMs),
    maxChars: 2048,
  });
  if (answer.status >= 400) throw new Error(`push failed with status ${answer.status}, ${answer.text}`);
}
