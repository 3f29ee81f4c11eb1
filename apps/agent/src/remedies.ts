import type { AssignedTest, Remedy, RemedyClaim, RemedyGrant, RemedyOutcome, RunResult } from '@synthfleet/contracts';
import { ApiCallError } from '@synthfleet/contracts/api-call-error';
import { createBackoff } from '@synthfleet/contracts/backoff';
import { FAILING_STATUSES } from '@synthfleet/contracts/run-status';
import type { KubeClient } from '@synthfleet/probes';
import { errorMessage, sleep } from '@synthfleet/probes/util';
import type { Logger } from './logger.ts';
import { runJobRemedy } from './remedy-job.ts';
import { FailureStreaks } from './remedy-streaks.ts';
import { type RemedyContext, runWebhookRemedy } from './remedy-webhook.ts';

export type RemedyDeps = {
  claim(claim: RemedyClaim): Promise<RemedyGrant>;
  finish(remedyId: string, outcome: RemedyOutcome): Promise<void>;
  /** Kubernetes access for `job` remedies; undefined when this agent may not create Jobs. */
  kube?: KubeClient;
  namespace: string;
  node: string;
  cluster: () => string;
  logger: Logger;
  onRemedy?: (kind: string, status: string) => void;
  /** Where the failure streaks are kept, so an agent restart does not start them from zero. */
  streakFile?: string;
};

/**
 * Counts each assigned test's consecutive failures on this agent and, when a streak reaches the
 * test's `remedy.after` (and every further `after` failures while it lasts), asks the API for a
 * remedy run. Only a granted run is carried out (the API holds the fleet-wide `runsLimit` and
 * `resetInterval`), and its outcome is reported back: nothing runs that is not recorded.
 */
export class Remedies {
  private readonly streaks: FailureStreaks;
  private readonly busy = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly deps: RemedyDeps;

  constructor(deps: RemedyDeps) {
    this.deps = deps;
    this.streaks = new FailureStreaks(deps.streakFile, deps.logger);
  }

  /** On shutdown: waits up to `ms` for remedies under way, then for the streaks to be on disk. */
  async settle(ms: number): Promise<void> {
    for (const end = Date.now() + ms; this.busy.size > 0 && Date.now() < end; ) await sleep(100);
    await this.saved();
  }

  /** Resolves once the streaks on disk are the current ones (tests, shutdown). */
  saved(): Promise<void> {
    return this.streaks.saved();
  }

  /** Remedies still being carried out (for a graceful stop). */
  get running(): number {
    return this.busy.size;
  }

  /** A test no longer assigned here: its streak goes (it would start afresh if it came back). */
  onRemoved(test: AssignedTest): void {
    this.streaks.forget(`${test.namespace}/${test.name}`);
  }

  onResult(test: AssignedTest, run: RunResult): void {
    const key = `${test.namespace}/${test.name}`;
    const remedy = test.spec.remedy;
    if (!remedy) {
      this.streaks.forget(key);
      return;
    }
    if (run.status === 'skipped' || run.status === 'unsupported') return; // neither a failure nor a pass
    if (!FAILING_STATUSES.has(run.status)) {
      this.streaks.forget(key);
      return;
    }
    const failures = this.streaks.fail(key, test.revision);
    if (failures % remedy.after !== 0 || this.busy.has(key)) return;
    if (remedy.job && !this.deps.kube) {
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.deps.logger.warn(
          { test: key },
          'test has a job remedy but this agent may not create Jobs (K8S_REMEDY_JOBS, the chart value remedies.jobs): not claimed',
        );
      }
      return;
    }
    this.busy.add(key);
    void this.fire(test, run, failures, remedy).finally(() => this.busy.delete(key));
  }

  private async fire(test: AssignedTest, run: RunResult, failures: number, remedy: Remedy): Promise<void> {
    const { logger } = this.deps;
    const key = `${test.namespace}/${test.name}`;
    let grant: RemedyGrant;
    try {
      grant = await this.deps.claim({
        namespace: test.namespace,
        name: test.name,
        revision: test.revision,
        runId: run.runId,
        failures,
      });
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 409)
        logger.info({ test: key, why: err.message }, 'remedy not granted');
      else logger.warn({ test: key, err: errorMessage(err) }, 'cannot claim a remedy run: not run');
      return;
    }
    const ctx: RemedyContext = { test, run, failures, grant, cluster: this.deps.cluster(), node: this.deps.node };
    let outcome: RemedyOutcome;
    try {
      // The spec holds exactly one of the two.
      outcome = remedy.webhook
        ? await runWebhookRemedy(remedy.webhook, ctx)
        : await runJobRemedy(
            remedy.job as NonNullable<Remedy['job']>,
            ctx,
            this.deps.kube as KubeClient,
            this.deps.namespace,
          );
    } catch (err) {
      outcome = { status: 'failed', message: errorMessage(err).slice(0, 4000) };
    }
    this.deps.onRemedy?.(grant.kind, outcome.status);
    logger.info({ test: key, remedy: grant.remedyId, kind: grant.kind, ...outcome }, 'remedy ran');
    const backoff = createBackoff({ baseMs: 1000, maxMs: 30_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.finish(grant.remedyId, outcome);
        return;
      } catch (err) {
        const retry = err instanceof ApiCallError && err.retryable && attempt < 8;
        if (!retry) {
          logger.warn({ remedy: grant.remedyId, err: errorMessage(err) }, 'cannot report the remedy outcome');
          return;
        }
        await sleep(backoff.next()).catch(() => {});
      }
    }
  }
}
