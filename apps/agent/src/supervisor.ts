import type { AssignedTest, Assignment, Gauge, Peer, RunResult, RunStatus } from '@synthfleet/contracts';
import type { ProbeSet } from '@synthfleet/probes';
import type { Logger } from './logger.ts';
import type { TestRunner } from './runner.ts';
import type { Semaphore } from './semaphore.ts';

export type SupervisorDeps = {
  probes: ProbeSet;
  limiter: Semaphore;
  self: () => { agentId: string; node: string };
  onResult: (test: AssignedTest, run: RunResult, gauges: readonly Gauge[]) => void;
  onRemoved: (test: AssignedTest) => void;
  onRunStart?: () => void;
  onRunEnd?: () => void;
  logger: Logger;
  random?: () => number;
  /**
   * Tests that arrive or change after the first assignment first run within this much (or their
   * period, if shorter), so an edit shows its result soon; the first assignment spreads over each
   * test's whole period, as after an agent restart nothing is new. Default 30 s.
   */
  changeSpreadMs?: number;
};

/** A Run now request older than this when its test first reaches an agent is not run there. */
const RUN_REQUEST_FRESH_MS = 60_000;

let runnerModule: Promise<typeof import('./runner.ts')> | undefined;
/**
 * The runner (with croner, the probes' config parsing and the run schema) loads with the first
 * test: an agent with an empty assignment never holds it.
 */
function loadRunner(): Promise<typeof import('./runner.ts')> {
  runnerModule ??= import('./runner.ts').catch((err: unknown) => {
    runnerModule = undefined;
    throw err;
  });
  return runnerModule;
}

/** Holds the runners of the current assignment and moves them to the next one by diffing. */
export class Supervisor {
  private readonly runners = new Map<string, TestRunner>();
  private readonly statuses = new Map<string, RunStatus>();
  private peers: readonly Peer[] = [];
  private readonly deps: SupervisorDeps;
  private applied = false;
  /** Run now requests already run here (a restarted runner does not run one twice). */
  private readonly seenRequests = new Set<string>();
  version: number | undefined;

  constructor(deps: SupervisorDeps) {
    this.deps = deps;
  }

  get size(): number {
    return this.runners.size;
  }

  tests(): AssignedTest[] {
    return [...this.runners.values()].map((r) => r.test);
  }

  /**
   * New tests start, tests whose revision (or group) changed restart with the new spec, removed
   * tests stop; a run under way of a changed or removed test is cancelled and reports nothing.
   */
  async apply(assignment: Assignment): Promise<{ started: number; restarted: number; stopped: number }> {
    this.peers = assignment.peers;
    this.version = assignment.version;
    const spreadMs = this.applied ? (this.deps.changeSpreadMs ?? 30_000) : undefined;
    this.applied = true;
    const next = new Map(assignment.tests.map((t) => [t.key, t]));
    const counts = { started: 0, restarted: 0, stopped: 0 };
    const stops: Promise<void>[] = [];
    const restarted = new Set<string>();
    for (const [key, runner] of this.runners) {
      const t = next.get(key);
      if (t && t.revision === runner.test.revision && t.apiVersion === runner.test.apiVersion) {
        // Same spec; a new Run now request runs it once more, the cadence unchanged.
        const id = t.runRequest?.id;
        if (id !== undefined && id !== runner.runRequestId) {
          runner.runRequestId = id;
          if (!this.seenRequests.has(id)) runner.runNow();
          this.remember(id);
        }
        continue;
      }
      this.runners.delete(key);
      stops.push(runner.stop());
      if (t) {
        counts.restarted++;
        restarted.add(key);
      } else {
        counts.stopped++;
        this.statuses.delete(`${runner.test.namespace}/${runner.test.name}`);
        this.deps.onRemoved(runner.test);
      }
    }
    await Promise.all(stops);
    const fresh = [...next].filter(([key]) => !this.runners.has(key));
    const Runner = fresh.length > 0 ? (await loadRunner()).TestRunner : undefined;
    for (const [key, t] of Runner ? fresh : []) {
      let runner: TestRunner;
      try {
        runner = this.createRunner(Runner as typeof TestRunner, t);
      } catch (err) {
        // An unusable schedule stops this test, never the agent.
        this.deps.logger.error({ test: key, err: (err as Error).message }, 'cannot schedule test');
        continue;
      }
      this.runners.set(key, runner);
      runner.start(spreadMs);
      // A request this agent has not seen, made just now (the test is new here, or changed with
      // it): run it. An old one (an agent restarting) is not run again.
      const request = t.runRequest;
      if (request) {
        runner.runRequestId = request.id;
        const age = Date.now() - Date.parse(request.requestedAt);
        if (spreadMs !== undefined && age < RUN_REQUEST_FRESH_MS && !this.seenRequests.has(request.id)) runner.runNow();
        this.remember(request.id);
      }
      if (!restarted.has(key)) counts.started++;
    }
    return counts;
  }

  private remember(id: string): void {
    if (this.seenRequests.size >= 1000) this.seenRequests.clear();
    this.seenRequests.add(id);
  }

  private createRunner(Runner: typeof TestRunner, t: AssignedTest): TestRunner {
    return new Runner(t, {
      probes: this.deps.probes,
      limiter: this.deps.limiter,
      self: this.deps.self,
      peers: () => this.peers,
      statusOf: (ns, name) => this.statuses.get(`${ns}/${name}`),
      onResult: (test, run, gauges) => {
        this.statuses.set(`${test.namespace}/${test.name}`, run.status);
        this.deps.onResult(test, run, gauges);
      },
      onRunStart: this.deps.onRunStart,
      onRunEnd: this.deps.onRunEnd,
      logger: this.deps.logger,
      random: this.deps.random ?? Math.random,
    });
  }

  /** Shutdown: runs under way get `graceMs` to finish, then are cancelled. */
  async stopAll(graceMs: number): Promise<void> {
    const all = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(all.map((r) => r.stop(graceMs)));
  }
}
