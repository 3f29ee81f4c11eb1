import { join } from 'node:path';
import type { Assignment } from '@synthfleet/contracts';
import { ApiCallError } from '@synthfleet/contracts/api-call-error';
import { createBackoff } from '@synthfleet/contracts/backoff';
import { parseDownwardLabels } from '@synthfleet/contracts/downward-labels';
import type { ProbeSet } from '@synthfleet/probes';
import { sleep } from '@synthfleet/probes/util';
import type { ApiClient } from './api-client.ts';
import type { AgentEnv } from './env.ts';
import { readFile } from './fs-async.ts';
import type { Logger } from './logger.ts';
import type { AgentMetrics, Pusher } from './metrics.ts';
import type { Reporter } from './reporter.ts';
import type { Spool } from './spool.ts';
import type { Supervisor } from './supervisor.ts';
import { parseAssignment } from './wire.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

/** What the agent knows of itself; the poller writes it as it registers. */
export type AgentState = {
  agentId: string | undefined;
  cluster: string | undefined;
  registered: boolean;
  haveAssignment: boolean;
  heartbeatUrl: string;
  port: number;
  stopping: boolean;
};

export type PollerDeps = {
  env: AgentEnv;
  version: string;
  state: AgentState;
  api: ApiClient;
  probes: ProbeSet;
  supervisor: Supervisor;
  reporter: Reporter;
  spool: Spool;
  metrics: AgentMetrics;
  pusher: Pusher | undefined;
  logger: Logger;
  random: () => number;
};

/**
 * The agent's side of the control plane's long-poll: registers (again, when the API forgets it),
 * polls for its assignment, applies each new one to the supervisor and keeps it on disk, so a
 * restarted agent goes on testing while the API is away. The loop catches, logs, backs off with
 * jitter and goes on until `signal` aborts.
 */
export function createPoller(deps: PollerDeps, signal: AbortSignal) {
  const { env, state, api, probes, supervisor, reporter, spool, metrics, pusher, logger, random } = deps;
  const assignmentFile = join(env.SPOOL_DIR, 'assignment.json');

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
    let assignment: Assignment;
    try {
      assignment = await parseAssignment(saved);
    } catch (err) {
      logger.warn({ file: assignmentFile, err: String(err) }, 'ignoring an unreadable saved assignment');
      return;
    }
    state.agentId = assignment.agentId;
    await applyAssignment(assignment, 'disk');
    // The saved version is not trusted as current: the first poll asks for the assignment anew.
    supervisor.version = undefined;
  }

  /** The pod's labels now; a file that cannot be read counts as no labels (and says so once). */
  let labelsWarned = false;
  let registeredLabels = '';
  async function podLabels(): Promise<Record<string, string>> {
    if (!env.POD_LABELS_FILE) return {};
    try {
      return parseDownwardLabels(await readFile(env.POD_LABELS_FILE, 'utf8'));
    } catch (err) {
      if (!labelsWarned)
        logger.warn({ file: env.POD_LABELS_FILE, err: String(err) }, 'cannot read the pod labels file');
      labelsWarned = true;
      return {};
    }
  }

  async function pollLoop(): Promise<void> {
    const backoff = createBackoff({ baseMs: 500, maxMs: 30_000, random });
    let waitSeconds = 30;
    while (!state.stopping) {
      try {
        const labels = await podLabels();
        if (state.registered && JSON.stringify(labels) !== registeredLabels) {
          // The pod's labels changed (the downward API rewrites the file): tests may now select it or not.
          logger.info({ podLabels: labels }, 'pod labels changed; registering again');
          state.registered = false;
        }
        if (!state.registered) {
          const reg = await api.register(
            {
              cluster: env.SYNTHFLEET_CLUSTER,
              node: env.NODE_NAME,
              pod: env.POD_NAME,
              podNamespace: env.POD_NAMESPACE,
              version: deps.version,
              capabilities: [...probes.keys()],
              heartbeatUrl: state.heartbeatUrl,
              podLabels: labels,
              matchTestNamespaces: env.MATCH_TEST_NAMESPACES,
              matchTestLabels: env.MATCH_TEST_LABELS,
            },
            signal,
          );
          registeredLabels = JSON.stringify(labels);
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
        const res = await api.poll(state.agentId as string, supervisor.version, waitSeconds, signal, {
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
        await sleep(delay, signal).catch(() => {});
      }
    }
  }

  return { loadSavedAssignment, run: pollLoop };
}
