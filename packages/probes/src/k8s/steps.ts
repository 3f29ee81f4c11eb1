import type { Gauge } from '@synthfleet/contracts';
import type { ProbeContext, ProbeOutcome } from '../types.ts';
import { errorMessage, seconds, sleep } from '../util.ts';
import { type KubeClient, KubeError } from './client.ts';

/** Labels on everything a k8s probe creates: the startup sweep and `kubectl` find them by these. */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGER = 'synthfleet-agent';
export const PROBE_LABEL = 'synthfleet.dev/probe';
export const NODE_LABEL = 'synthfleet.dev/node';
export const RUN_LABEL = 'synthfleet.dev/run';

export function probeLabels(plugin: string, node: string, run: string): Record<string, string> {
  return { [MANAGED_BY]: MANAGER, [PROBE_LABEL]: plugin, [NODE_LABEL]: node.slice(0, 63), [RUN_LABEL]: run };
}

/** A short random run id, valid in names and label values. */
export function runId(): string {
  return Math.random().toString(36).slice(2, 8).padEnd(6, '0');
}

/** A step failed: the run stops there and says why. */
export class StepFailed extends Error {
  override name = 'StepFailed';
}

type StepRecord = { name: string; ms: number; ok: boolean; message?: string };

/**
 * The steps of one Kubernetes probe run: each is timed and worth one mark; the first that fails
 * ends the run with a message naming it; the steps never reached are counted in `maxMarks`.
 */
export class Steps {
  private readonly done: StepRecord[] = [];
  readonly log: string[] = [];
  private readonly started = performance.now();

  readonly plan: readonly string[];
  readonly ctx: ProbeContext;
  private readonly runDeadline: number;
  private readonly stepTimeoutMs: number | undefined;
  /** The waits of the current step end by this time (performance clock), so a hang fails at its step. */
  private deadline = 0;

  constructor(plan: readonly string[], ctx: ProbeContext, stepTimeoutMs?: number) {
    this.plan = plan;
    this.ctx = ctx;
    // The run's own limit, less the time its cleanup needs.
    const reserve = Math.min(3000, ctx.timeoutMs * 0.2);
    this.runDeadline = performance.now() + Math.max(100, ctx.timeoutMs - reserve);
    this.stepTimeoutMs = stepTimeoutMs;
  }

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    this.deadline = Math.min(this.runDeadline, t0 + (this.stepTimeoutMs ?? Number.POSITIVE_INFINITY));
    try {
      const value = await fn();
      const ms = performance.now() - t0;
      this.done.push({ name, ms, ok: true });
      this.log.push(`✓ ${name} in ${ms.toFixed(0)} ms`);
      return value;
    } catch (err) {
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      const ms = performance.now() - t0;
      const message = err instanceof StepFailed || err instanceof KubeError ? err.message : errorMessage(err);
      this.done.push({ name, ms, ok: false, message });
      this.log.push(`✗ ${name} after ${ms.toFixed(0)} ms: ${message}`);
      throw new StepFailed(`step "${name}" failed: ${message}`);
    }
  }

  /**
   * Polls `check` until it answers a value (done) or throws (failed), every `everyMs`, until the
   * step deadline: then fails with what `pending()` last said.
   */
  async until<T>(check: () => Promise<T | undefined>, everyMs: number, pending: () => string): Promise<T> {
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      const left = this.deadline - performance.now();
      if (left <= 0) throw new StepFailed(`${pending()} (gave up after the step deadline)`);
      await sleep(Math.min(everyMs, left), this.ctx.signal);
    }
  }

  /**
   * Runs the steps in `body`: a failed step ends it (the outcome says which); anything else, a
   * cancelled run, is rethrown. Whatever happened, then deletes what `leftovers()` still names
   * (what the run created and did not see gone), within its own time bound.
   */
  async run(
    body: () => Promise<void>,
    cleanup?: { client: KubeClient; leftovers: () => readonly string[]; timeoutMs: number },
  ): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (!(err instanceof StepFailed)) throw err;
    } finally {
      const left = cleanup?.leftovers() ?? [];
      if (cleanup && left.length > 0) await cleanUp(cleanup.client, left, this.log, cleanup.timeoutMs);
    }
  }

  outcome(extra: { error?: string; details?: Record<string, string>; gauges?: Gauge[] } = {}): ProbeOutcome {
    const gauges: Gauge[] = this.done.map((s) => ({
      name: 'k8s_step_seconds',
      value: seconds(s.ms),
      labels: { step: s.name },
    }));
    gauges.push({ name: 'k8s_run_seconds', value: seconds(performance.now() - this.started), labels: {} });
    const failed = this.done.find((s) => !s.ok);
    const timings: Record<string, string> = {};
    for (const s of this.done) timings[s.name] = `${s.ms.toFixed(1)}ms${s.ok ? '' : ' (failed)'}`;
    return {
      marks: this.done.filter((s) => s.ok).length,
      maxMarks: this.plan.length,
      log: this.log,
      error: extra.error ?? (failed ? `step "${failed.name}" failed: ${failed.message}` : undefined),
      details: { steps: JSON.stringify(timings), ...extra.details },
      gauges: [...gauges, ...(extra.gauges ?? [])],
    };
  }
}

/**
 * Deletes what a run created, newest first, even after a timeout or a cancel: its own time bound,
 * never the run's (aborted) signal. Failures are logged, not thrown.
 */
export async function cleanUp(client: KubeClient, paths: readonly string[], log: string[], boundMs: number) {
  const signal = AbortSignal.timeout(boundMs);
  for (const path of [...paths].reverse()) {
    try {
      await client.remove(path, signal);
    } catch (err) {
      log.push(`cleanup: deleting ${path} failed: ${errorMessage(err)}`);
    }
  }
}

type Listed = { metadata: { name: string; namespace?: string; creationTimestamp?: string } };

/**
 * Deletes what k8s probes left behind in earlier runs (an agent killed mid-run, a cleanup that
 * could not reach the API): objects with the probe's labels older than `olderThanMs`. Runs once per
 * collection per agent process, before that collection's first probe run.
 */
export class Sweeper {
  private readonly swept = new Map<string, Promise<number>>();

  private readonly client: KubeClient;
  private readonly olderThanMs: number;
  private readonly onSweep?: (path: string, removed: string[]) => void;

  constructor(client: KubeClient, olderThanMs: number, onSweep?: (path: string, removed: string[]) => void) {
    this.client = client;
    this.olderThanMs = olderThanMs;
    this.onSweep = onSweep;
  }

  sweep(collection: string, prefix = collection): Promise<number> {
    let done = this.swept.get(collection);
    if (!done) {
      done = this.run(collection, prefix).catch(() => {
        this.swept.delete(collection); // try again before the next run
        return 0;
      });
      this.swept.set(collection, done);
    }
    return done;
  }

  private async run(collection: string, prefix: string): Promise<number> {
    const signal = AbortSignal.timeout(30_000);
    const list = await this.client.list<Listed>(collection, `${MANAGED_BY}=${MANAGER}`, signal);
    const now = Date.now();
    const removed: string[] = [];
    for (const item of list.items) {
      const created = Date.parse(item.metadata.creationTimestamp ?? '');
      if (Number.isNaN(created) || now - created < this.olderThanMs) continue;
      await this.client.remove(`${prefix}/${item.metadata.name}`, signal);
      removed.push(item.metadata.name);
    }
    this.onSweep?.(collection, removed);
    return removed.length;
  }
}
