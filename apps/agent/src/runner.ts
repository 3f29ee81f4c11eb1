// Loaded lazily (supervisor.ts): subpaths, not the packages' indexes, so the bundle keeps the
// indexes out of the lazy part (a lazily loaded index would load every module it re-exports).
import type { AssignedTest, Gauge, Peer, RunStatus } from '@synthfleet/contracts';
import { RunResult } from '@synthfleet/contracts/agent-api';
import { parseDuration } from '@synthfleet/contracts/duration';
import { FAILING_STATUSES } from '@synthfleet/contracts/run-status';
import { runTimeoutMs } from '@synthfleet/contracts/synthetic-test';
import type { ProbeReport, ProbeSet } from '@synthfleet/probes';
import { runProbe } from '@synthfleet/probes/registry';
import { nodeCrypto } from '@synthfleet/probes/util';
import { Cron } from 'croner';
import type { Logger } from './logger.ts';
import type { Semaphore } from './semaphore.ts';

export type RunnerDeps = {
  probes: ProbeSet;
  limiter: Semaphore;
  self: () => { agentId: string; node: string };
  peers: () => readonly Peer[];
  /** The last status of a test of this agent, by namespace/name, for dependsOn. */
  statusOf: (namespace: string, name: string) => RunStatus | undefined;
  onResult: (test: AssignedTest, run: RunResult, gauges: readonly Gauge[]) => void;
  onRunStart?: () => void;
  onRunEnd?: () => void;
  logger: Logger;
  random: () => number;
};

class Cancelled extends Error {
  override name = 'Cancelled';
}

/** When a test runs: every `repeat`, or on a cron `schedule` (`@every 30s` counts as a repeat). */
export type Cadence = { kind: 'every'; ms: number } | { kind: 'cron'; cron: Cron };

export function cadenceOf(test: AssignedTest): Cadence {
  const schedule = test.spec.schedule?.trim();
  if (schedule?.startsWith('@every ')) return { kind: 'every', ms: Math.max(1000, parseDuration(schedule.slice(7))) };
  if (schedule) return { kind: 'cron', cron: new Cron(schedule, { paused: true }) };
  return { kind: 'every', ms: parseDuration(test.spec.repeat ?? '1m') };
}

/**
 * Runs one assigned test on its cadence: first at a random offset within one period (a fleet does
 * not fire in lockstep), then every period without overlapping itself. Each run holds a slot of
 * the agent's concurrency cap and is cut off at `timeouts.run` even if the probe ignores its signal.
 */
export class TestRunner {
  readonly test: AssignedTest;
  private readonly deps: RunnerDeps;
  private readonly cadence: Cadence;
  private readonly stopCtl = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  private current: Promise<void> | undefined;
  private stopped = false;
  /** A Run now asked while a run was under way: it runs right after. */
  private manualPending = false;
  /** The newest Run now request id this runner has seen (AssignedTest.runRequest). */
  runRequestId: string | undefined;

  constructor(test: AssignedTest, deps: RunnerDeps) {
    this.test = test;
    this.deps = deps;
    this.cadence = cadenceOf(test);
  }

  get key(): string {
    return `${this.test.namespace}/${this.test.name}`;
  }

  /**
   * Schedules the first run at a random point within the period (within `spreadMs` when that is
   * shorter), so a fleet's runs of one test spread out; cron tests wait for their next time.
   */
  start(spreadMs?: number): void {
    const now = Date.now();
    const c = this.cadence;
    this.due =
      c.kind === 'every' ? now + Math.floor(this.deps.random() * Math.min(c.ms, spreadMs ?? c.ms)) : this.nextCron(now);
    this.arm();
  }

  private nextCron(after: number): number {
    if (this.cadence.kind !== 'cron') return after;
    const first = this.cadence.cron.nextRun(new Date(after));
    if (!first) return Number.POSITIVE_INFINITY;
    const second = this.cadence.cron.nextRun(first);
    const period = second ? second.getTime() - first.getTime() : 60_000;
    // A little jitter within a tenth of the period (at most 30 s) spreads a fleet's cron runs.
    return first.getTime() + Math.floor(this.deps.random() * Math.min(period / 10, 30_000));
  }

  private arm(): void {
    if (this.stopped || !Number.isFinite(this.due)) return;
    // setTimeout holds 2^31-1 ms at most; re-arm for longer waits.
    const wait = Math.min(Math.max(0, this.due - Date.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      if (Date.now() < this.due) return this.arm();
      // A manual run under way stands for this tick: the test never overlaps itself.
      if (this.current) return this.advance();
      this.launch('timer');
    }, wait);
  }

  /** The next tick after now; ticks missed while a run was under way are skipped, not queued. */
  private advance(): void {
    const now = Date.now();
    if (this.cadence.kind === 'every') {
      while (this.due <= now) this.due += this.cadence.ms;
    } else this.due = this.nextCron(now);
    this.arm();
  }

  private launch(trigger: 'timer' | 'manual'): void {
    this.current = this.execute(trigger).finally(() => {
      this.current = undefined;
      if (trigger === 'timer') this.advance();
      if (this.manualPending && !this.stopped) {
        this.manualPending = false;
        this.launch('manual');
      }
    });
  }

  /**
   * Run now (a manual request): runs once at once, outside the cadence (which goes on as it was);
   * if a run is under way, once right after it. Its result says `trigger: {type: "manual"}`.
   */
  runNow(): void {
    if (this.stopped) return;
    if (this.current) this.manualPending = true;
    else this.launch('manual');
  }

  /** Runs once now (outside the cadence); resolves when its result has been handed on. */
  execute(trigger: 'timer' | 'manual' = 'timer'): Promise<void> {
    return this.executeOnce(trigger);
  }

  private async executeOnce(trigger: 'timer' | 'manual'): Promise<void> {
    const { test, deps } = this;
    const dependency = (test.spec.dependsOn ?? []).find((d) => {
      const s = deps.statusOf(test.namespace, d);
      return s !== undefined && FAILING_STATUSES.has(s);
    });
    if (dependency !== undefined) {
      const now = new Date().toISOString();
      this.emit(
        {
          status: 'skipped',
          marks: 0,
          maxMarks: 0,
          details: { _log: `skipped: dependency "${dependency}" is failing` },
          gauges: [],
        },
        now,
        now,
        trigger,
      );
      return;
    }
    let release: () => void;
    try {
      release = await deps.limiter.acquire(this.stopCtl.signal);
    } catch {
      return; // stopped while waiting for a slot
    }
    const runCtl = new AbortController();
    const timeoutMs = runTimeoutMs(test.spec);
    const onStop = () => runCtl.abort(new Cancelled('the test was changed, removed or the agent is stopping'));
    this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(
      () => runCtl.abort(new DOMException(`run exceeded timeouts.run (${test.spec.timeouts.run})`, 'TimeoutError')),
      timeoutMs,
    );
    const aborted = new Promise<never>((_, reject) => {
      runCtl.signal.addEventListener('abort', () => reject(runCtl.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    const startTime = new Date().toISOString();
    deps.onRunStart?.();
    try {
      const report = await Promise.race([
        runProbe(deps.probes, test.spec.plugin, test.spec.config, {
          signal: runCtl.signal,
          self: deps.self(),
          peers: deps.peers(),
          timeoutMs,
        }),
        aborted,
      ]);
      this.emit(report, startTime, new Date().toISOString(), trigger);
    } catch (err) {
      const reason = runCtl.signal.reason;
      if (reason instanceof Cancelled) {
        deps.logger.debug({ test: this.key }, 'run cancelled');
      } else if (reason instanceof DOMException && reason.name === 'TimeoutError') {
        this.emit(
          { status: 'timeout', marks: 0, maxMarks: 1, details: { _error: reason.message }, gauges: [] },
          startTime,
          new Date().toISOString(),
          trigger,
        );
      } else {
        this.emit(
          {
            status: 'error',
            marks: 0,
            maxMarks: 1,
            details: { _error: `run failed: ${(err as Error).message}` },
            gauges: [],
          },
          startTime,
          new Date().toISOString(),
          trigger,
        );
      }
    } finally {
      clearTimeout(timer);
      this.stopCtl.signal.removeEventListener('abort', onStop);
      deps.onRunEnd?.();
      release();
    }
  }

  private emit(
    report: ProbeReport | (Omit<ProbeReport, 'status'> & { status: RunStatus }),
    startTime: string,
    endTime: string,
    trigger: 'timer' | 'manual',
  ) {
    const { test } = this;
    let run: RunResult = {
      runId: nodeCrypto().randomUUID(),
      namespace: test.namespace,
      name: test.name,
      revision: test.revision,
      status: report.status,
      marks: report.marks,
      maxMarks: report.maxMarks,
      startTime,
      endTime,
      details: report.details,
      gauges: report.gauges.length ? report.gauges : undefined,
      trigger: { type: trigger },
    };
    const checked = RunResult.safeParse(run);
    if (!checked.success) {
      // One bad gauge or detail must not cost the result (nor poison the batch it travels in).
      const why = checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      this.deps.logger.warn({ test: this.key, why }, 'probe result trimmed to pass validation');
      run = {
        ...run,
        gauges: undefined,
        details: {
          _error: `the probe's result did not validate (${why.slice(0, 2000)})`,
          _log: run.details?._log?.slice(0, 60_000) ?? '',
        },
      };
    }
    this.deps.onResult(test, run, run.gauges ?? []);
  }

  /**
   * Stops the cadence. `graceMs` lets a run under way finish first (shutdown); otherwise it is
   * cancelled at once (the test changed or was removed) and reports nothing.
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const running = this.current;
    if (running && graceMs > 0) {
      await Promise.race([running, new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    this.stopCtl.abort();
    await running;
  }
}
