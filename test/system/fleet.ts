/**
 * The whole fleet on one machine, as an operator runs it: the API (Node entry, libSQL file in a
 * temp directory), a real Pushgateway, and per cluster a Kubernetes API double (there is no API
 * server here; the double speaks the real wire protocol to the real client), a syncer process
 * watching it and several agent processes, each with its own node name, heartbeat port and spool.
 * Every process is real and talks over 127.0.0.1; tests change the system only from the outside:
 * SyntheticTests through the Kubernetes API, signals to processes.
 */
import { join } from 'node:path';
import type { AgentView, RunView } from '@synthfleet/contracts';
import { AgentList } from '@synthfleet/contracts';
import { freePort } from '../support/free-port.ts';
import { type KubeApiDouble, type KubeObject, startKubeApi } from '../support/kube-api.ts';
import { type ProbeTarget, startProbeTarget } from '../support/probe-target.ts';
import {
  type AgentProcess,
  type Api,
  type NodeProcess,
  startAgent,
  startApi,
  startNode,
} from '../support/processes.ts';
import { type Pushgateway, startPushgateway } from '../support/pushgateway.ts';
import { createTempDirs } from '../support/temp-dirs.ts';

export const SYNTHETIC_TESTS = 'synthfleet.dev/v1/synthetictests';

export type Cluster = {
  name: string;
  kube: KubeApiDouble;
  token: string;
  syncer: NodeProcess;
  agents: Map<string, AgentProcess>;
  /** Applies a SyntheticTest in the default namespace, as `kubectl apply` would. */
  apply(name: string, spec: Record<string, unknown>): KubeObject;
  remove(name: string): boolean;
  /** The object as the cluster holds it, status included. */
  get(name: string): KubeObject | undefined;
  startAgent(node: string): Promise<AgentProcess>;
  /**
   * Stops the syncer (SIGTERM, or the signal given), runs `whileDown`, and starts a new one against
   * the same cluster.
   */
  restartSyncer(opts?: { signal?: NodeJS.Signals; whileDown?: () => void | Promise<void> }): Promise<void>;
  /** Agents as the API knows them (node, state). */
  apiAgents(): Promise<AgentView[]>;
};

export type Fleet = {
  api: Api;
  gateway: Pushgateway;
  clusters: Record<string, Cluster>;
  /** An HTTP server the probes test: counts hits per path, `/hang` never answers. */
  target: ProbeTarget;
  /** Every run of one test, all pages. */
  runsOf(cluster: string, name: string): Promise<RunView[]>;
  /** Stops the API (SIGKILL by default) and starts it again on the same port and database. */
  restartApi(opts?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
};

export type FleetOptions = {
  /** Cluster name → node names, one agent each. */
  clusters: Record<string, string[]>;
  apiEnv?: Record<string, string>;
  agentEnv?: Record<string, string>;
  syncerEnv?: Record<string, string>;
};

/** A SyntheticTest spec with the defaults these tests use. */
export function spec(extra: Record<string, unknown>): Record<string, unknown> {
  return { plugin: 'httpPing', repeat: '1s', node: '*', ...extra };
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const temp = createTempDirs();
  const dir = temp.make('synthfleet-fleet-');
  const target = await startProbeTarget();
  const processes = new Set<NodeProcess>();
  const kubes: KubeApiDouble[] = [];

  const [gateway, port] = await Promise.all([startPushgateway(), freePort()]);
  const apiOptions = { dataDir: join(dir, 'api'), port, env: opts.apiEnv };
  let api = await startApi(apiOptions);
  const admin = api.admin;

  const agentOf = (token: string) => (node: string) =>
    startAgent({
      apiUrl: api.url,
      token,
      node,
      spoolDir: join(dir, `spool-${node}`),
      env: { PUSHGATEWAY_URL: gateway.url, ...opts.agentEnv },
    });

  async function startCluster(name: string, nodes: string[]): Promise<Cluster> {
    const kube = await startKubeApi({ resources: [SYNTHETIC_TESTS] });
    kubes.push(kube);
    const kubeconfig = kube.writeKubeconfig(temp.make(`synthfleet-kubeconfig-${name}-`));
    const token = await api.clusterToken(name);
    const launchSyncer = async () => {
      const p = startNode(
        'apps/syncer/src/main.ts',
        {
          SYNTHFLEET_API_URL: api.url,
          SYNTHFLEET_TOKEN: token,
          KUBECONFIG: kubeconfig,
          WATCH_GROUPS: 'synthfleet.dev',
          STATUS_SECONDS: '1',
          RESYNC_SECONDS: '300',
          LOG_LEVEL: 'info',
          ...opts.syncerEnv,
        },
        `syncer ${name}`,
      );
      processes.add(p);
      await p.waitForLog((l) => l.msg === 'snapshot applied', 120_000);
      return p;
    };
    const launchAgent = agentOf(token);
    const agents = new Map<string, AgentProcess>();
    const cluster: Cluster = {
      name,
      kube,
      token,
      syncer: await launchSyncer(),
      agents,
      apply: (test, s) =>
        kube.apply(SYNTHETIC_TESTS, {
          apiVersion: 'synthfleet.dev/v1',
          kind: 'SyntheticTest',
          metadata: { name: test, namespace: 'default' },
          spec: s,
        }),
      remove: (test) => kube.remove(SYNTHETIC_TESTS, 'default', test),
      get: (test) => kube.get(SYNTHETIC_TESTS, 'default', test),
      async startAgent(node) {
        const a = await launchAgent(node);
        processes.add(a);
        agents.set(node, a);
        return a;
      },
      async restartSyncer({ signal = 'SIGTERM', whileDown } = {}) {
        await cluster.syncer.stop(signal);
        processes.delete(cluster.syncer);
        await whileDown?.();
        cluster.syncer = await launchSyncer();
      },
      async apiAgents() {
        const r = await api.call(`/api/v1/clusters/${name}/agents`);
        if (r.status !== 200) throw new Error(`agents of ${name}: ${r.status} ${JSON.stringify(r.json)}`);
        return AgentList.parse(r.json).agents;
      },
    };
    await Promise.all(nodes.map((n) => cluster.startAgent(n)));
    return cluster;
  }

  const clusters: Record<string, Cluster> = {};
  for (const [name, nodes] of Object.entries(opts.clusters)) clusters[name] = await startCluster(name, nodes);

  const fleet: Fleet = {
    get api() {
      return api;
    },
    gateway,
    clusters,
    target,
    runsOf: (cluster, name) => api.runs(cluster, 'default', name),
    async restartApi({ signal = 'SIGKILL', downMs = 0 } = {}) {
      await api.stop(signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      api = await startApi({ ...apiOptions, admin });
    },
    async stop() {
      await Promise.all([...processes].map((p) => p.stop('SIGKILL')));
      await api.stop('SIGKILL');
      await gateway.stop();
      await Promise.all(kubes.map((k) => k.close()));
      target.close();
      temp.removeAll();
    },
  };
  return fleet;
}

/** The node that made each run, from the agents the API knows. */
export async function nodesOf(cluster: Cluster, runs: readonly RunView[]): Promise<Set<string>> {
  const byId = new Map((await cluster.apiAgents()).map((a) => [a.agentId, a.node]));
  return new Set(runs.map((r) => byId.get(r.agentId) ?? `unknown agent ${r.agentId}`));
}
