import type { Gauge as PluginGauge, RunResult } from '@synthfleet/contracts';
import { RUN_STATUSES } from '@synthfleet/contracts/run-status';
import type { Logger } from './logger.ts';
import { Counter, Gauge, pushToGateway, Registry } from './prom.ts';

export type TestLabels = { namespace: string; test: string; plugin: string };

const TEST = ['namespace', 'test', 'plugin'] as const;

/**
 * synthetic-heart's extra labels on its `syntheticheart_*` series, as its agent config's
 * `prometheus.labels` gives them: a label name and a Go-template value. Its chart's defaults.
 */
export const DEFAULT_SH_LABELS = 'test_node={{.Agent.NodeName}},plugin={{.TestConfig.PluginName}}';
const SH_FIELDS = {
  '.Agent.NodeName': (c: ShLabelContext) => c.node,
  '.Agent.PodName': (c: ShLabelContext) => c.pod,
  '.Agent.AgentNamespace': (c: ShLabelContext) => c.podNamespace,
  '.TestConfig.Name': (c: ShLabelContext) => c.test,
  '.TestConfig.Namespace': (c: ShLabelContext) => c.namespace,
  '.TestConfig.PluginName': (c: ShLabelContext) => c.plugin,
} as const;
type ShLabelContext = TestLabels & { node: string; pod: string; podNamespace: string };
export type ShLabel = { name: string; template: string };

/** Parses `name=template,…`; a template may name the fields of SH_FIELDS. Throws naming what is wrong. */
export function parseShLabels(text: string): ShLabel[] {
  const out: ShLabel[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq);
    if (eq < 1 || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new Error(`"${part}" is not label_name=template`);
    if (['test_name', 'test_namespace'].includes(name))
      throw new Error(`label "${name}" is always set; choose another name`);
    const template = part.slice(eq + 1);
    for (const m of template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!((m[1] as string) in SH_FIELDS))
        throw new Error(
          `label "${name}": {{${m[1]}}} is not one of ${Object.keys(SH_FIELDS)
            .map((f) => `{{${f}}}`)
            .join(', ')}`,
        );
    }
    out.push({ name, template });
  }
  return out;
}

function renderShLabel(template: string, c: ShLabelContext): string {
  return template.replace(
    /\{\{\s*([^}]*?)\s*\}\}/g,
    (_, f: string) => SH_FIELDS[f as keyof typeof SH_FIELDS]?.(c) ?? '',
  );
}

/** synthetic-heart's own plugin gauges: exported under its names only (ours have their own). */
const SH_ONLY = new Set(['http_ping_latency', 'net_dial', 'net_dial_duration_ns', 'dns_repeat_count']);
/** Which families a plugin gauge goes to: synthfleet_probe_*, syntheticheart_*, or both. */
function familiesOf(plugin: string, name: string): ('fleet' | 'sh')[] {
  if (SH_ONLY.has(name)) return ['sh'];
  // curl's gauges are synthetic-heart's; an exec program's are its author's, for either dashboard.
  if (name.startsWith('curl_') || plugin === 'exec') return ['fleet', 'sh'];
  return ['fleet'];
}

/**
 * The agent's metrics, served at /metrics and pushed to the Pushgateway. Names are documented in
 * apps/agent/README.md; synthetic-heart's `syntheticheart_*` series are kept for dashboards built
 * on them.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly node: string;
  private readonly logger: Logger;
  private readonly success: Gauge<(typeof TEST)[number]>;
  private readonly passRatio: Gauge<(typeof TEST)[number]>;
  private readonly duration: Gauge<(typeof TEST)[number]>;
  private readonly lastRun: Gauge<(typeof TEST)[number]>;
  private readonly runs: Counter<(typeof TEST)[number] | 'status'>;
  private readonly shMarks: Gauge<string>;
  private readonly shMaxMarks: Gauge<string>;
  private readonly shRuntime: Gauge<string>;
  private readonly shLabels: readonly ShLabel[];
  private readonly pod: string;
  private readonly podNamespace: string;
  private readonly pluginGauges = new Map<string, { gauge: Gauge<string>; labels: string[] }>();
  /** Per test: the plugin-gauge series its last run set, removed before the next run sets its own. */
  private readonly pluginSeries = new Map<string, { gauge: Gauge<string>; labels: Record<string, string> }[]>();
  readonly lastPoll: Gauge;
  readonly registered: Gauge;
  readonly spoolRuns: Gauge;
  readonly spoolBytes: Gauge;
  readonly droppedRuns: Counter;
  readonly deliveredRuns: Counter<'outcome'>;
  readonly rateLimitedRuns: Counter;
  readonly remedies: Counter<'kind' | 'status'>;
  readonly assignedTests: Gauge;
  readonly runsInFlight: Gauge;

  constructor(opts: {
    node: string;
    version: string;
    logger: Logger;
    /** synthetic-heart's `prometheus.labels` (DEFAULT_SH_LABELS when not given). */
    shLabels?: readonly ShLabel[];
    pod?: string;
    podNamespace?: string;
  }) {
    this.node = opts.node;
    this.logger = opts.logger;
    this.shLabels = opts.shLabels ?? parseShLabels(DEFAULT_SH_LABELS);
    this.pod = opts.pod ?? opts.node;
    this.podNamespace = opts.podNamespace ?? 'default';
    const SH = ['test_name', 'test_namespace', ...this.shLabels.map((l) => l.name)];
    const r = [this.registry];
    const g = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers: r });
    this.success = g('synthfleet_test_success', '1 if the last run passed, else 0', TEST);
    this.passRatio = g('synthfleet_test_pass_ratio', 'marks / maxMarks of the last run', TEST);
    this.duration = g('synthfleet_test_duration_seconds', 'how long the last run took', TEST);
    this.lastRun = g('synthfleet_test_last_run_timestamp_seconds', 'when the last run ended', TEST);
    this.runs = new Counter({
      name: 'synthfleet_test_runs_total',
      help: 'runs by status',
      labelNames: [...TEST, 'status'],
      registers: r,
    });
    this.shMarks = g('syntheticheart_marks_total', 'marks of the last run (synthetic-heart name)', SH);
    this.shMaxMarks = g('syntheticheart_max_marks_total', 'maxMarks of the last run (synthetic-heart name)', SH);
    this.shRuntime = g('syntheticheart_runtime_ns', 'run time in nanoseconds (synthetic-heart name)', SH);
    this.lastPoll = g(
      'synthfleet_agent_last_successful_poll_timestamp_seconds',
      'when the agent last heard from the API',
    );
    this.registered = g('synthfleet_agent_registered', '1 once the agent is registered with the API');
    this.spoolRuns = g('synthfleet_agent_spool_runs', 'results waiting on disk for the API');
    this.spoolBytes = g('synthfleet_agent_spool_bytes', 'bytes of results waiting on disk');
    this.droppedRuns = new Counter({
      name: 'synthfleet_agent_dropped_runs_total',
      help: 'results dropped because the spool was full (oldest first) or unreadable',
      registers: r,
    });
    this.deliveredRuns = new Counter({
      name: 'synthfleet_agent_delivered_runs_total',
      help: 'results sent to the API, by outcome (accepted, duplicate, rejected)',
      labelNames: ['outcome'],
      registers: r,
    });
    this.rateLimitedRuns = new Counter({
      name: 'synthfleet_agent_rate_limited_runs_total',
      help: 'results the API refused for now (429, over a quota): kept in the spool and sent again after its Retry-After',
      registers: r,
    });
    this.remedies = new Counter({
      name: 'synthfleet_agent_remedies_total',
      help: 'remedy runs this agent carried out, by kind (webhook, job) and status (succeeded, failed)',
      labelNames: ['kind', 'status'],
      registers: r,
    });
    this.assignedTests = g('synthfleet_agent_assigned_tests', 'tests this agent is running');
    this.runsInFlight = g('synthfleet_agent_runs_in_flight', 'probe runs under way');
    g('synthfleet_agent_info', 'constant 1, labelled with the agent version', ['version']).set(
      { version: opts.version },
      1,
    );
    const rss: Gauge = new Gauge({
      name: 'synthfleet_agent_resident_memory_bytes',
      help: 'resident set size of the agent process',
      registers: r,
      collect: (): void => rss.set(process.memoryUsage.rss()),
    });
  }

  private inFlight = 0;

  runStarted(): void {
    this.runsInFlight.set(++this.inFlight);
  }

  runEnded(): void {
    this.runsInFlight.set(--this.inFlight);
  }

  /** The spool was full and dropped its oldest `n` results. */
  recordDropped(n: number): void {
    this.droppedRuns.inc(n);
    this.logger.warn({ dropped: n }, 'spool full: dropped the oldest results');
  }

  /** The registry in Prometheus's text format, for `/metrics`. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Results waiting for the API: in memory and on disk, and the spool's bytes. */
  setSpool(runs: number, bytes: number): void {
    this.spoolRuns.set(runs);
    this.spoolBytes.set(bytes);
  }

  /** What one delivery attempt did (see Reporter's onDelivery). */
  recordDelivery(e: { delivered: number; duplicates: number; rejected: number; rateLimited?: number }): void {
    if (e.delivered) this.deliveredRuns.inc({ outcome: 'accepted' }, e.delivered);
    if (e.duplicates) this.deliveredRuns.inc({ outcome: 'duplicate' }, e.duplicates);
    if (e.rejected) this.deliveredRuns.inc({ outcome: 'rejected' }, e.rejected);
    if (e.rateLimited) this.rateLimitedRuns.inc(e.rateLimited);
  }

  recordRun(t: TestLabels, run: RunResult, gauges: readonly PluginGauge[]): void {
    const seconds = Math.max(0, (Date.parse(run.endTime) - Date.parse(run.startTime)) / 1000);
    this.runs.inc({ ...t, status: run.status });
    if (run.status === 'skipped' || run.status === 'unsupported') return;
    const sh = this.shBase(t);
    this.success.set(t, run.status === 'pass' ? 1 : 0);
    this.passRatio.set(t, run.maxMarks > 0 ? run.marks / run.maxMarks : 0);
    this.duration.set(t, seconds);
    this.lastRun.set(t, Date.parse(run.endTime) / 1000);
    this.shMarks.set(sh, run.marks);
    this.shMaxMarks.set(sh, run.maxMarks);
    this.shRuntime.set(sh, Math.round(seconds * 1e9));
    this.setPluginGauges(t, gauges);
  }

  /** The labels of a test's syntheticheart_* series. */
  private shBase(t: TestLabels): Record<string, string> {
    const c: ShLabelContext = { ...t, node: this.node, pod: this.pod, podNamespace: this.podNamespace };
    const labels: Record<string, string> = { test_name: t.test, test_namespace: t.namespace };
    for (const l of this.shLabels) labels[l.name] = renderShLabel(l.template, c);
    return labels;
  }

  private setPluginGauges(t: TestLabels, gauges: readonly PluginGauge[]): void {
    const key = `${t.namespace}/${t.test}`;
    for (const s of this.pluginSeries.get(key) ?? []) s.gauge.remove(s.labels);
    const now: { gauge: Gauge<string>; labels: Record<string, string> }[] = [];
    const shLabels = this.shBase(t);
    for (const pg of gauges) {
      const extra = Object.keys(pg.labels ?? {}).sort();
      const families = familiesOf(t.plugin, pg.name);
      const targets: [string, Record<string, string>][] = [];
      if (families.includes('fleet'))
        targets.push([`synthfleet_probe_${pg.name}`, { namespace: t.namespace, test: t.test, plugin: t.plugin }]);
      if (families.includes('sh')) targets.push([`syntheticheart_${pg.name}`, shLabels]);
      for (const [name, base] of targets) {
        const gauge = this.pluginGauge(name, pg.help, [...Object.keys(base), ...extra]);
        if (!gauge) continue;
        const labels: Record<string, string> = {};
        for (const l of gauge.labels) labels[l] = base[l] ?? pg.labels?.[l] ?? '';
        gauge.gauge.set(labels, pg.value);
        now.push({ gauge: gauge.gauge, labels });
      }
    }
    this.pluginSeries.set(key, now);
  }

  private pluginGauge(name: string, help: string | undefined, labels: string[]) {
    let entry = this.pluginGauges.get(name);
    if (!entry) {
      try {
        const gauge = new Gauge({
          name,
          help: help ?? `probe gauge ${name}`,
          labelNames: labels,
          registers: [this.registry],
        });
        entry = { gauge, labels };
        this.pluginGauges.set(name, entry);
      } catch (err) {
        this.logger.warn({ gauge: name, err: (err as Error).message }, 'cannot export a probe gauge');
        return undefined;
      }
    }
    return entry;
  }

  /** Forgets a test's series when it is no longer assigned, so dashboards do not show ghosts. */
  removeTest(t: TestLabels): void {
    const sh = this.shBase(t);
    for (const m of [this.success, this.passRatio, this.duration, this.lastRun]) m.remove(t);
    for (const m of [this.shMarks, this.shMaxMarks, this.shRuntime]) m.remove(sh);
    for (const status of RUN_STATUSES) this.runs.remove({ ...t, status });
    const key = `${t.namespace}/${t.test}`;
    for (const s of this.pluginSeries.get(key) ?? []) s.gauge.remove(s.labels);
    this.pluginSeries.delete(key);
  }
}

/**
 * Pushes the registry to the Pushgateway under {job, cluster, instance = node} with PUT, so series
 * of removed tests vanish there too. Pushes coalesce: at most one in flight, one more queued. Once
 * `keepAlive()` is called it also pushes every `keepAliveMs` whatever happens, so the gateway's
 * `push_time_seconds` of this group means "this agent is alive", not "it ran something lately":
 * an agent with no tests never looks dead to the silence alerts.
 */
export function createPusher(opts: {
  url: string;
  registry: Registry;
  job: string;
  grouping: () => Record<string, string>;
  logger: Logger;
  minIntervalMs: number;
  keepAliveMs: number;
}) {
  let inFlight: Promise<void> | undefined;
  let again = false;
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let failures = 0;

  async function pushNow(): Promise<void> {
    last = Date.now();
    try {
      await pushToGateway(opts.url, opts.registry, opts.job, opts.grouping(), 10_000);
      if (failures > 0) opts.logger.info({ after: failures }, 'pushgateway reachable again');
      failures = 0;
    } catch (err) {
      if (failures++ % 30 === 0)
        opts.logger.warn({ err: (err as Error).message, url: opts.url }, 'push to pushgateway failed');
    }
  }

  function push(): Promise<void> {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = pushNow().finally(() => {
      inFlight = undefined;
      if (again) {
        again = false;
        schedule();
      }
    });
    return inFlight;
  }

  function schedule(): void {
    if (timer) return;
    const wait = Math.max(0, last + opts.minIntervalMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void push();
    }, wait);
  }

  return {
    schedule,
    /** Starts the keep-alive pushes (idempotent): call once the group's labels are known. */
    keepAlive(): void {
      if (keepAlive) return;
      keepAlive = setInterval(() => {
        if (Date.now() - last >= opts.keepAliveMs * 0.9) schedule();
      }, opts.keepAliveMs);
      keepAlive.unref();
    },
    async flush(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      if (inFlight) await inFlight;
      await push();
    },
    stop(): void {
      clearTimeout(timer);
      clearInterval(keepAlive);
    },
  };
}

export type Pusher = ReturnType<typeof createPusher>;
