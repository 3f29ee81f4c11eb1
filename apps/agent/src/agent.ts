import { join } from 'node:path';
import { createBackoff } from '@synthfleet/contracts/backoff';
import type { KubeClient, ProbeSet } from '@synthfleet/probes';
import { createProbeSet } from '@synthfleet/probes/probe-set';
import { sleep } from '@synthfleet/probes/util';
import pkg from '../package.json' with { type: 'json' };
import { type ApiClient, createApiClient } from './api-client.ts';
import type { AgentEnv } from './env.ts';
import { mkdir } from './fs-async.ts';
import { createHeartbeatServer } from './heartbeat-server.ts';
import { kubeClientFor } from './kube-access.ts';
import { createLogger, type Logger } from './logger.ts';
import { AgentMetrics, createPusher } from './metrics.ts';
import { createMetricsServer } from './metrics-server.ts';
import { type AgentState, createPoller } from './poller.ts';
import { Remedies } from './remedies.ts';
import { Reporter } from './reporter.ts';
import { createResultRouter } from './results.ts';
import { Semaphore } from './semaphore.ts';
import { Spool } from './spool.ts';
import { Supervisor } from './supervisor.ts';

export const AGENT_VERSION: string = pkg.version;

export type AgentDeps = {
  logger?: Logger;
  random?: () => number;
  probes?: ProbeSet;
  /** Where in-cluster Kubernetes access is read from (KUBERNETES_SERVICE_HOST/_PORT). */
  processEnv?: Record<string, string | undefined>;
};

/**
 * One agent, wired: the poller registers and long-polls its assignment (poller.ts), the supervisor
 * runs the tests, each result goes runner -> result router -> reporter -> API client (spooled while
 * the API is away), metrics are exported and heartbeats served. Nothing here has logic of its own.
 */
export function createAgent(env: AgentEnv, deps: AgentDeps = {}) {
  const logger = deps.logger ?? createLogger(env.LOG_LEVEL, { node: env.NODE_NAME });
  const random = deps.random ?? Math.random;
  const kube = kubeClientFor(env, deps.processEnv ?? process.env, logger);
  const k8sNamespace = env.K8S_NAMESPACE ?? env.POD_NAMESPACE ?? 'default';
  const probes = deps.probes ?? createProbeSet(probeSetOptions(env, kube, k8sNamespace, logger));
  const api = createApiClient({ baseUrl: env.SYNTHFLEET_API_URL, token: env.SYNTHFLEET_TOKEN });
  const metrics = new AgentMetrics({
    node: env.NODE_NAME,
    version: AGENT_VERSION,
    logger,
    shLabels: env.SH_METRIC_LABELS,
    pod: env.POD_NAME,
    podNamespace: env.POD_NAMESPACE,
  });
  const spool = new Spool(env.SPOOL_DIR, env.SPOOL_MAX_BYTES, (n) => metrics.recordDropped(n));
  const pollCtl = new AbortController();
  const state = initialState(env);
  const pusher = pusherFor(env, metrics, state, logger);
  const spoolGauges = () => metrics.setSpool(spool.depth + reporter.pending, spool.bytes);
  const reporter = new Reporter({
    spool,
    api,
    logger,
    flushMs: env.RESULT_FLUSH_MS,
    agentId: () => state.agentId,
    backoff: createBackoff({ baseMs: 1000, maxMs: 30_000, random }),
    onDelivery: (e) => {
      metrics.recordDelivery(e);
      spoolGauges();
    },
  });
  const remedies = remediesFor(env, {
    api,
    state,
    kube: env.K8S_REMEDY_JOBS ? kube : undefined,
    namespace: k8sNamespace,
    metrics,
    logger,
  });
  const supervisor = new Supervisor({
    probes,
    limiter: new Semaphore(env.MAX_CONCURRENT_RUNS),
    changeSpreadMs: env.CHANGE_SPREAD_SECONDS * 1000,
    self: () => ({ agentId: state.agentId ?? env.NODE_NAME, node: env.NODE_NAME }),
    random,
    logger,
    ...createResultRouter({ metrics, reporter, remedies, pusher, logger, changed: spoolGauges }),
    onRunStart: () => metrics.runStarted(),
    onRunEnd: () => metrics.runEnded(),
  });
  const server = createHeartbeatServer({
    host: env.HEARTBEAT_HOST,
    port: env.HEARTBEAT_PORT,
    min: env.HEARTBEAT_MIN,
    max: env.HEARTBEAT_MAX,
    version: AGENT_VERSION,
    ready: () => state.registered && state.haveAssignment,
    metrics: () => {
      spoolGauges();
      return metrics.exposition();
    },
  });
  const pull =
    env.METRICS_PORT === undefined
      ? undefined
      : createMetricsServer({ host: env.METRICS_HOST, port: env.METRICS_PORT, exposition: () => metrics.exposition() });
  const poller = createPoller(
    { env, version: AGENT_VERSION, state, api, probes, supervisor, reporter, spool, metrics, pusher, logger, random },
    pollCtl.signal,
  );
  let loop: Promise<void> | undefined;
  return {
    state,
    metrics,
    async start(): Promise<void> {
      await mkdir(env.SPOOL_DIR, { recursive: true });
      await spool.open();
      if (!spool.empty) logger.info({ runs: spool.depth }, 'found spooled results from an earlier run');
      spoolGauges();
      await poller.loadSavedAssignment();
      state.port = await server.listen();
      state.heartbeatUrl = heartbeatUrlOf(env, state.port);
      if (pull) logger.info({ port: await pull.listen(), host: env.METRICS_HOST }, 'serving /metrics for pull');
      logger.info(
        { url: state.heartbeatUrl, version: AGENT_VERSION, capabilities: [...probes.keys()] },
        'agent listening',
      );
      loop = poller.run();
    },

    /** Graceful stop within `graceMs`: stop polling, let runs finish or cancel them, deliver or spool results. */
    async stop(graceMs = env.SHUTDOWN_GRACE_SECONDS * 1000): Promise<void> {
      if (state.stopping) return;
      state.stopping = true;
      pollCtl.abort();
      await supervisor.stopAll(Math.min(graceMs * 0.4, 10_000));
      await reporter.close(Math.min(graceMs * 0.3, 10_000));
      spoolGauges();
      if (pusher) {
        await Promise.race([pusher.flush(), sleep(Math.min(graceMs * 0.2, 5000)).catch(() => {})]);
        pusher.stop();
      }
      await loop;
      await remedies.settle(2000);
      kube?.close();
      await server.close();
      await pull?.close();
      logger.info({ spooled: spool.depth }, 'agent stopped');
    },
  };
}
export type Agent = ReturnType<typeof createAgent>;

/** The probes this agent offers: exec with its allow-lists, k8s families with Kubernetes access. */
function probeSetOptions(
  env: AgentEnv,
  kube: ReturnType<typeof kubeClientFor>,
  namespace: string,
  logger: Logger,
): Parameters<typeof createProbeSet>[0] {
  return {
    execAllow: env.EXEC_ALLOW,
    execEnvAllow: env.EXEC_ENV_ALLOW,
    k8s:
      kube && env.K8S_PROBES.length > 0
        ? {
            client: kube,
            defaultNamespace: namespace,
            families: env.K8S_PROBES,
            sweepAgeMs: env.K8S_SWEEP_AGE_SECONDS * 1000,
            onSweep: (collection, removed) => {
              if (removed.length) logger.info({ collection, removed }, 'removed leftovers of earlier k8s probe runs');
            },
          }
        : undefined,
  };
}

/** The Pushgateway pusher, grouped by {cluster, instance = node}, when PUSHGATEWAY_URL is set. */
function pusherFor(env: AgentEnv, metrics: AgentMetrics, state: AgentState, logger: Logger) {
  if (!env.PUSHGATEWAY_URL) return undefined;
  return createPusher({
    url: env.PUSHGATEWAY_URL,
    registry: metrics.registry,
    job: 'synthfleet',
    grouping: () => ({ cluster: state.cluster ?? 'unknown', instance: env.NODE_NAME }),
    logger,
    minIntervalMs: Math.min(env.RESULT_FLUSH_MS, 5000),
    keepAliveMs: env.PUSH_KEEPALIVE_SECONDS * 1000,
  });
}

/** Remedies claimed and reported through the API, their streaks kept beside the spool. */
function remediesFor(
  env: AgentEnv,
  deps: {
    api: ApiClient;
    state: AgentState;
    kube: KubeClient | undefined;
    namespace: string;
    metrics: AgentMetrics;
    logger: Logger;
  },
) {
  return new Remedies({
    claim: (claim) => deps.api.claimRemedy(deps.state.agentId as string, claim),
    finish: (id, outcome) => deps.api.finishRemedy(deps.state.agentId as string, id, outcome),
    kube: deps.kube,
    namespace: deps.namespace,
    node: env.NODE_NAME,
    cluster: () => deps.state.cluster ?? 'unknown',
    logger: deps.logger,
    onRemedy: (kind, status) => deps.metrics.remedies.inc({ kind, status }),
    streakFile: join(env.SPOOL_DIR, 'remedy-streaks.json'),
  });
}

function initialState(env: AgentEnv): AgentState {
  const state = { agentId: undefined, cluster: env.SYNTHFLEET_CLUSTER, registered: false, haveAssignment: false };
  return { ...state, heartbeatUrl: '', port: 0, stopping: false };
}

/** Where peers reach this agent's heartbeats: HEARTBEAT_URL, else the pod's (or listen) address. */
function heartbeatUrlOf(env: AgentEnv, port: number): string {
  if (env.HEARTBEAT_URL) return env.HEARTBEAT_URL;
  const host = env.POD_IP ?? (['0.0.0.0', '::', ''].includes(env.HEARTBEAT_HOST) ? '127.0.0.1' : env.HEARTBEAT_HOST);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
