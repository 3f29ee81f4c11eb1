import { readFileSync } from 'node:fs';
import {
  ApiCallError,
  type AssignedTest,
  createBackoff,
  FAILING_STATUSES,
  parseDuration,
  type Remedy,
  type RemedyClaim,
  type RemedyGrant,
  type RemedyOutcome,
  type RunResult,
} from '@synthfleet/contracts';
import { errorMessage, type KubeClient, MANAGED_BY, MANAGER, sleep } from '@synthfleet/probes';
import { httpRequest } from './http-request.ts';
import type { Logger } from './logger.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

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

type Streak = { revision: number; failures: number };

type Context = { test: AssignedTest; run: RunResult; failures: number; grant: RemedyGrant };

/**
 * Counts each assigned test's consecutive failures on this agent and, when a streak reaches the
 * test's `remedy.after` (and every further `after` failures while it lasts), asks the API for a
 * remedy run. Only a granted run is carried out (the API holds the fleet-wide `runsLimit` and
 * `resetInterval`), and its outcome is reported back: nothing runs that is not recorded.
 */
export class Remedies {
  private readonly streaks = new Map<string, Streak>();
  private readonly busy = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly deps: RemedyDeps;
  private saving: Promise<void> | undefined;
  private dirty = false;

  constructor(deps: RemedyDeps) {
    this.deps = deps;
    if (deps.streakFile) this.load(deps.streakFile);
  }

  /** Streaks saved by an earlier run of this agent; anything unreadable is ignored (start from zero). */
  private load(file: string): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return;
    }
    if (!saved || typeof saved !== 'object') return;
    for (const [key, v] of Object.entries(saved as Record<string, unknown>)) {
      const { revision, failures } = (v ?? {}) as Partial<Streak>;
      if (Number.isInteger(revision) && Number.isInteger(failures) && (failures as number) > 0)
        this.streaks.set(key, { revision: revision as number, failures: failures as number });
    }
  }

  /** Writes the streaks (atomically, one write at a time; changes meanwhile make one more). */
  private save(): void {
    const file = this.deps.streakFile;
    if (!file) return;
    this.dirty = true;
    if (this.saving) return;
    this.saving = (async () => {
      while (this.dirty) {
        this.dirty = false;
        try {
          await writeFileAtomic(file, JSON.stringify(Object.fromEntries(this.streaks)));
        } catch (err) {
          this.deps.logger.warn({ file, err: errorMessage(err) }, 'cannot save the remedy streaks');
        }
      }
    })().finally(() => {
      this.saving = undefined;
    });
  }

  /** Resolves once the streaks on disk are the current ones (tests, shutdown). */
  async saved(): Promise<void> {
    while (this.saving) await this.saving;
  }

  private forget(key: string): void {
    if (this.streaks.delete(key)) this.save();
  }

  /** Remedies still being carried out (for a graceful stop). */
  get running(): number {
    return this.busy.size;
  }

  /** A test no longer assigned here: its streak goes (it would start afresh if it came back). */
  onRemoved(test: AssignedTest): void {
    this.forget(`${test.namespace}/${test.name}`);
  }

  onResult(test: AssignedTest, run: RunResult): void {
    const key = `${test.namespace}/${test.name}`;
    const remedy = test.spec.remedy;
    if (!remedy) {
      this.forget(key);
      return;
    }
    if (run.status === 'skipped') return; // neither a failure nor a pass
    if (!FAILING_STATUSES.has(run.status)) {
      this.forget(key);
      return;
    }
    const last = this.streaks.get(key);
    const failures = (last?.revision === test.revision ? last.failures : 0) + 1;
    this.streaks.set(key, { revision: test.revision, failures });
    this.save();
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
    const ctx = { test, run, failures, grant };
    let outcome: RemedyOutcome;
    try {
      // The spec holds exactly one of the two.
      outcome = remedy.webhook
        ? await this.webhook(remedy.webhook, ctx)
        : await this.job(remedy.job as NonNullable<Remedy['job']>, ctx);
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

  private payload({ test, run, failures, grant }: Context) {
    return {
      remedyId: grant.remedyId,
      attempt: grant.attempt,
      runsLimit: grant.runsLimit,
      test: { cluster: this.deps.cluster(), namespace: test.namespace, name: test.name, revision: test.revision },
      node: this.deps.node,
      consecutiveFailures: failures,
      run: {
        runId: run.runId,
        status: run.status,
        marks: run.marks,
        maxMarks: run.maxMarks,
        startTime: run.startTime,
        endTime: run.endTime,
        error: run.details?._error,
      },
    };
  }

  private async webhook(hook: NonNullable<Remedy['webhook']>, ctx: Context): Promise<RemedyOutcome> {
    const body = JSON.stringify(this.payload(ctx));
    const res = await httpRequest(new URL(hook.url), {
      method: 'POST',
      body,
      headers: {
        ...hook.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'synthfleet-agent',
      },
      signal: AbortSignal.timeout(parseDuration(hook.timeout)),
      maxChars: 2000,
    });
    const details = { url: hook.url, status: String(res.status) };
    if (res.status >= 200 && res.status < 300)
      return { status: 'succeeded', message: `webhook answered ${res.status}`, details };
    return {
      status: 'failed',
      message: `webhook answered ${res.status}${res.text ? `: ${res.text.slice(0, 500)}` : ''}`,
      details,
    };
  }

  private async job(job: NonNullable<Remedy['job']>, ctx: Context): Promise<RemedyOutcome> {
    const kube = this.deps.kube as KubeClient;
    const spec = structuredClone(job.spec) as {
      template: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { env?: unknown[] }[] } };
      ttlSecondsAfterFinished?: number;
    };
    const ns = job.namespace ?? this.deps.namespace;
    const env = [
      { name: 'SYNTHFLEET_CLUSTER', value: this.deps.cluster() },
      { name: 'SYNTHFLEET_TEST', value: `${ctx.test.namespace}/${ctx.test.name}` },
      { name: 'SYNTHFLEET_NODE', value: this.deps.node },
      { name: 'SYNTHFLEET_RUN_ID', value: ctx.run.runId },
      { name: 'SYNTHFLEET_FAILURES', value: String(ctx.failures) },
      { name: 'SYNTHFLEET_REMEDY_ID', value: ctx.grant.remedyId },
    ];
    for (const c of spec.template.spec?.containers ?? []) c.env = [...(c.env ?? []), ...env];
    const labels = {
      [MANAGED_BY]: MANAGER,
      'synthfleet.dev/remedy': ctx.grant.remedyId,
      'synthfleet.dev/test': ctx.test.name.slice(0, 63),
    };
    spec.template.metadata = { ...spec.template.metadata, labels: { ...spec.template.metadata?.labels, ...labels } };
    spec.ttlSecondsAfterFinished ??= 3600;
    const created = await kube.create<{ metadata: { name: string } }>(`/apis/batch/v1/namespaces/${ns}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        generateName: 'synthfleet-remedy-',
        labels,
        annotations: {
          'synthfleet.dev/test': `${ctx.test.namespace}/${ctx.test.name}`,
          'synthfleet.dev/node': this.deps.node,
        },
      },
      spec,
    });
    const name = created.metadata.name;
    const details = { job: `${ns}/${name}` };
    const deadline = Date.now() + parseDuration(job.timeout);
    while (Date.now() < deadline) {
      const current = await kube.get<{
        status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
      }>(`/apis/batch/v1/namespaces/${ns}/jobs/${name}`);
      const done = current.status?.conditions?.find(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      if (done?.type === 'Complete') return { status: 'succeeded', message: `Job ${ns}/${name} completed`, details };
      if (done)
        return {
          status: 'failed',
          message: `Job ${ns}/${name} failed: ${done.reason ?? ''}${done.message ? `: ${done.message}` : ''}`,
          details,
        };
      await sleep(Math.min(1000, Math.max(1, deadline - Date.now())));
    }
    return {
      status: 'failed',
      message: `Job ${ns}/${name} did not finish within ${job.timeout}`,
      details,
    };
  }
}
