import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiCallError, type AssignedTest, Assignment, createBackoff, type RunResult } from '@synthfleet/contracts';
import { createProbeSet, errorMessage, KubeClient, kubeAccessFromEnv, type ProbeSet, sleep } from '@synthfleet/probes';
import pkg from '../package.json' with { type: 'json' };
import { createApiClient } from './api-client.ts';
import type { AgentEnv } from './env.ts';
import { createHeartbeatServer } from './heartbeat-server.ts';
import { createLogger, type Logger } from './logger.ts';
import { AgentMetrics, createPusher, type TestLabels } from './metrics.ts';
import { Remedies } from './remedies.ts';
import { Reporter } from './reporter.ts';
import { Semaphore } from './semaphore.ts';
import { Spool } from './spool.ts';
import { Supervisor } from './supervisor.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

export const AGENT_VERSION: string = pkg.version;

export type AgentDeps = {
  logger?: Logger;
  random?: () => number;
  probes?: ProbeSet;
  /** Where in-cluster Kubernetes access is read from (KUBERNETES_SERVICE_HOST/_PORT). */
  processEnv?: Record<string, string | undefined>;
};

/** The Kubernetes client for k8s probes and Job remedies, when this agent is asked for either. */
function kubeClientFor(env: AgentEnv, processEnv: Record<string, string | undefined>, logger: Logger) {
  if (env.K8S_PROBES.length === 0 && !env.K8S_REMEDY_JOBS) return undefined;
  try {
    const access = kubeAccessFromEnv({
      K8S_API_SERVER: env.K8S_API_SERVER,
      K8S_TOKEN_FILE: env.K8S_TOKEN_FILE,
      K8S_CA_FILE: env.K8S_CA_FILE,
      KUBERNETES_SERVICE_HOST: processEnv.KUBERNETES_SERVICE_HOST,
      KUBERNETES_SERVICE_PORT: processEnv.KUBERNETES_SERVICE_PORT,
    });
    if (access) return new KubeClient(access);
    logger.error(
      {},
      'K8S_PROBES or K8S_REMEDY_JOBS is set but there is no Kubernetes API: set K8S_API_SERVER or run in a cluster',
    );
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'no Kubernetes access: k8s probes and Job remedies are off');
  }
  return undefined;
}

const labelsOf = (t: AssignedTest): TestLabels => ({ namespace: t.namespace, test: t.name, plugin: t.spec.plugin });

/**
 * One agent: registers, long-polls its assignment, runs the tests, delivers results (spooling
 * them while the API is away), exports metrics and serves heartbeats. Every loop here catches,
 * logs, backs off with jitter and goes on: nothing the API or a probe does stops the agent.
 */
export function createAgent(env: AgentEnv, deps: AgentDeps = {}) {
  const logger = deps.logger ?? createLogger(env.LOG_LEVEL, { node: env.NODE_NAME });
  const random = deps.random ?? Math.random;
  const kube = kubeClientFor(env, deps.processEnv ?? process.env, logger);
  const k8sNamespace = env.K8S_NAMESPACE ?? env.POD_NAMESPACE ?? 'default';
  const probes =
    deps.probes ??
    createProbeSet({
      execAllow: env.EXEC_ALLOW,
      execEnvAllow: env.EXEC_ENV_ALLOW,
      k8s:
        kube && env.K8S_PROBES.length > 0
          ? {
              client: kube,
              defaultNamespace: k8sNamespace,
              families: env.K8S_PROBES,
              sweepAgeMs: env.K8S_SWEEP_AGE_SECONDS * 1000,
              onSweep: (collection, removed) => {
                if (removed.length) logger.info({ collection, removed }, 'removed leftovers of earlier k8s probe runs');
              },
            }
          : undefined,
    });
  const api = createApiClient({ baseUrl: env.SYNTHFLEET_API_URL, token: env.SYNTHFLEET_TOKEN });
  const metrics = new AgentMetrics({ node: env.NODE_NAME, version: AGENT_VERSION, logger });
  const spool = new Spool(env.SPOOL_DIR, env.SPOOL_MAX_BYTES, (n) => {
    metrics.droppedRuns.inc(n);
    logger.warn({ dropped: n }, 'spool full: dropped the oldest results');
  });
  const assignmentFile = join(env.SPOOL_DIR, 'assignment.json');
  const pollCtl = new AbortController();
  const state = {
    agentId: undefined as string | undefined,
    cluster: env.SYNTHFLEET_CLUSTER,
    registered: false,
    haveAssignment: false,
    heartbeatUrl: '',
    port: 0,
    stopping: false,
  };

  const pusher = env.PUSHGATEWAY_URL
    ? createPusher({
        url: env.PUSHGATEWAY_URL,
        registry: metrics.registry,
        job: 'synthfleet',
        grouping: () => ({ cluster: state.cluster ?? 'unknown', instance: env.NODE_NAME }),
        logger,
        minIntervalMs: Math.min(env.RESULT_FLUSH_MS, 5000),
        keepAliveMs: env.PUSH_KEEPALIVE_SECONDS * 1000,
      })
    : undefined;

  const reporter = new Reporter({
    spool,
    backoff: createBackoff({ baseMs: 1000, maxMs: 30_000, random }),
    logger,
    flushMs: env.RESULT_FLUSH_MS,
    send: async (runs: RunResult[]) => {
      if (state.agentId === undefined) throw new ApiCallError(0, 'not registered yet');
      const r = await api.sendRuns({ agentId: state.agentId, runs });
      return { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected.length };
    },
    onDelivery: (e) => {
      if (e.delivered) metrics.deliveredRuns.inc({ outcome: 'accepted' }, e.delivered);
      if (e.duplicates) metrics.deliveredRuns.inc({ outcome: 'duplicate' }, e.duplicates);
      if (e.rejected) metrics.deliveredRuns.inc({ outcome: 'rejected' }, e.rejected);
      if (e.rateLimited) metrics.rateLimitedRuns.inc(e.rateLimited);
      updateSpoolGauges();
    },
  });

  function updateSpoolGauges(): void {
    metrics.spoolRuns.set(spool.depth + reporter.pending);
    metrics.spoolBytes.set(spool.bytes);
  }

  const remedies = new Remedies({
    claim: (claim) => api.claimRemedy(state.agentId as string, claim),
    finish: (id, outcome) => api.finishRemedy(state.agentId as string, id, outcome),
    kube: env.K8S_REMEDY_JOBS ? kube : undefined,
    namespace: k8sNamespace,
    node: env.NODE_NAME,
    cluster: () => state.cluster ?? 'unknown',
    logger,
    onRemedy: (kind, status) => metrics.remedies.inc({ kind, status }),
    streakFile: join(env.SPOOL_DIR, 'remedy-streaks.json'),
  });

  let inFlight = 0;
  const supervisor = new Supervisor({
    probes,
    limiter: new Semaphore(env.MAX_CONCURRENT_RUNS),
    changeSpreadMs: env.CHANGE_SPREAD_SECONDS * 1000,
    self: () => ({ agentId: state.agentId ?? env.NODE_NAME, node: env.NODE_NAME }),
    random,
    logger,
    onResult: (test, run, gauges) => {
      metrics.recordRun(labelsOf(test), run, gauges);
      reporter.submit(run);
      remedies.onResult(test, run);
      updateSpoolGauges();
      pusher?.schedule();
      logger.debug({ test: test.key, status: run.status, runId: run.runId }, 'run finished');
    },
    onRemoved: (test) => {
      metrics.removeTest(labelsOf(test));
      remedies.onRemoved(test);
    },
    onRunStart: () => metrics.runsInFlight.set(++inFlight),
    onRunEnd: () => metrics.runsInFlight.set(--inFlight),
  });

  const server = createHeartbeatServer({
    host: env.HEARTBEAT_HOST,
    port: env.HEARTBEAT_PORT,
    min: env.HEARTBEAT_MIN,
    max: env.HEARTBEAT_MAX,
    version: AGENT_VERSION,
    ready: () => state.registered && state.haveAssignment,
    metrics: async () => {
      updateSpoolGauges();
      return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
    },
  });

  async function applyAssignment(a: Assignment, source: 'api' | 'disk'): Promise<void> {
    const counts = await supervisor.apply(a);
    metrics.assignedTests.set(supervisor.size);
    // A removed test's series are gone from the registry: push now so they leave the gateway too
    // (an agent whose last test was deleted would otherwise never push again).
    if (state.registered) pusher?.schedule();
    logger.info(
      { version: a.version, tests: a.tests.length, peers: a.peers.length, source, ...counts },
      'assignment applied',
    );
    if (source === 'api') {
      state.haveAssignment = true;
      // Kept on disk so a restarted agent goes on testing while the API is away.
      await writeFileAtomic(assignmentFile, JSON.stringify(a)).catch((err) =>
        logger.warn({ err: String(err) }, 'cannot save the assignment'),
      );
    }
  }

  async function loadSavedAssignment(): Promise<void> {
    let saved: unknown;
    try {
      saved = JSON.parse(await readFile(assignmentFile, 'utf8'));
    } catch {
      return; // none yet, or not JSON: the API hands out the current one anyway
    }
    const parsed = Assignment.safeParse(saved);
    if (!parsed.success) {
      logger.warn({ file: assignmentFile }, 'ignoring an unreadable saved assignment');
      return;
    }
    state.agentId = parsed.data.agentId;
    await applyAssignment(parsed.data, 'disk');
    // The saved version is not trusted as current: the first poll asks for the assignment anew.
    supervisor.version = undefined;
  }

  async function pollLoop(): Promise<void> {
    const backoff = createBackoff({ baseMs: 500, maxMs: 30_000, random });
    let waitSeconds = 30;
    while (!state.stopping) {
      try {
        if (!state.registered) {
          const reg = await api.register(
            {
              cluster: env.SYNTHFLEET_CLUSTER,
              node: env.NODE_NAME,
              pod: env.POD_NAME,
              podNamespace: env.POD_NAMESPACE,
              version: AGENT_VERSION,
              capabilities: [...probes.keys()],
              heartbeatUrl: state.heartbeatUrl,
            },
            pollCtl.signal,
          );
          if (reg.agentId !== state.agentId) supervisor.version = undefined;
          state.agentId = reg.agentId;
          state.cluster = reg.cluster;
          state.registered = true;
          waitSeconds = Math.max(1, reg.pollWaitSeconds);
          metrics.registered.set(1);
          // The group is {cluster, instance} from here on: push it now and then keep it alive.
          pusher?.keepAlive();
          pusher?.schedule();
          logger.info({ agentId: reg.agentId, cluster: reg.cluster }, 'registered');
          void reporter.flush();
        }
        const res = await api.poll(state.agentId as string, supervisor.version, waitSeconds, pollCtl.signal, {
          spool: spool.depth + reporter.pending,
          dropped: spool.dropped,
        });
        metrics.lastPoll.set(Date.now() / 1000);
        if (backoff.failures > 0) logger.info({ after: backoff.failures }, 'API reachable again');
        backoff.reset();
        if (res.kind === 'assignment') await applyAssignment(res.assignment, 'api');
        if (!spool.empty) void reporter.flush();
      } catch (err) {
        if (state.stopping) break;
        const e = err instanceof ApiCallError ? err : new ApiCallError(0, (err as Error).message);
        if (e.status === 404) {
          // The API no longer knows this agent (its database was reset): register afresh.
          state.registered = false;
          metrics.registered.set(0);
        }
        const delay = backoff.next();
        const level = e.status === 401 || e.status === 403 ? 'error' : 'warn';
        logger[level]({ err: e.message, status: e.status, retryInMs: delay }, 'poll failed');
        await sleep(delay, pollCtl.signal).catch(() => {});
      }
    }
  }

  let loop: Promise<void> | undefined;

  return {
    state,
    metrics,
    get url(): string {
      return state.heartbeatUrl;
    },

    async start(): Promise<void> {
      await mkdir(env.SPOOL_DIR, { recursive: true });
      await spool.open();
      if (!spool.empty) logger.info({ runs: spool.depth }, 'found spooled results from an earlier run');
      updateSpoolGauges();
      await loadSavedAssignment();
      state.port = await server.listen();
      const host =
        env.POD_IP ?? (['0.0.0.0', '::', ''].includes(env.HEARTBEAT_HOST) ? '127.0.0.1' : env.HEARTBEAT_HOST);
      state.heartbeatUrl = env.HEARTBEAT_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${state.port}`;
      logger.info(
        { url: state.heartbeatUrl, version: AGENT_VERSION, capabilities: [...probes.keys()] },
        'agent listening',
      );
      loop = pollLoop();
    },

    /** Graceful stop within `graceMs`: stop polling, let runs finish or cancel them, deliver or spool results. */
    async stop(graceMs = env.SHUTDOWN_GRACE_SECONDS * 1000): Promise<void> {
      if (state.stopping) return;
      state.stopping = true;
      pollCtl.abort();
      await supervisor.stopAll(Math.min(graceMs * 0.4, 10_000));
      await reporter.close(Math.min(graceMs * 0.3, 10_000));
      updateSpoolGauges();
      if (pusher) {
        await Promise.race([pusher.flush(), sleep(Math.min(graceMs * 0.2, 5000)).catch(() => {})]);
        pusher.stop();
      }
      await loop;
      for (let i = 0; remedies.running > 0 && i < 20; i++) await sleep(100);
      await remedies.saved();
      kube?.close();
      await server.close();
      logger.info({ spooled: spool.depth }, 'agent stopped');
    },
  };
}
export type Agent = ReturnType<typeof createAgent>;
