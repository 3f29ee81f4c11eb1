/**
 * A seeded fleet: the shape an SRE meets at 3 a.m., written straight into a migrated database
 * (multi-row INSERTs, as ingest would have left it) at any scale. The Chromium tests and the
 * dashboard benchmark both use it, so what the tests check is what the benchmark measures.
 *
 * The scenario, whatever the scale (clusters ≥ 8):
 * - `edge-000` is the big cluster: `dns-resolve` fails on 99 % of its nodes, since 12 minutes
 *   ago (the widest and newest incident);
 * - `edge-001`: five DNS tests (`dns-1` … `dns-5`) fail on every node, since 40 minutes ago;
 * - `api-health` (critical) fails on 3 nodes in each of the next clusters (56 of 60 in the
 *   issue's fleet: all but the first two and the last two), since 2 hours ago: look-alikes;
 * - the last two clusters are silent: nothing heard for 3 hours, their agents stale;
 * - a few more stale agents in `edge-002`; a test in maintenance in `edge-003`; a test no
 *   agent of `edge-004` can run (unsupported).
 * Every test runs every minute; runs spread over the last day, failures where the scenario
 * fails. Every (test, node) pair is assigned, as placement would have left it, so results sent
 * to the seeded API roll up. What the generator does not model: remedies, fleet tests, rejected
 * objects, SLOs, availability aggregates.
 */
import type { Client, InStatement } from '@libsql/client';

export type FleetScale = {
  clusters: number;
  /** Agents in all, the big cluster's included. */
  agents: number;
  /** Nodes of `edge-000`. */
  bigClusterNodes: number;
  testsPerCluster: number;
  runs: number;
};

/** The issue's fleet: 60 clusters, 5,054 agents, 1,200 tests, a million runs. */
export const ISSUE_FLEET: FleetScale = {
  clusters: 60,
  agents: 5_054,
  bigClusterNodes: 1_000,
  testsPerCluster: 20,
  runs: 1_000_000,
};

export type SeededFleet = {
  now: number;
  clusters: string[];
  agents: number;
  tests: number;
  runs: number;
  /** Nodes of each cluster. */
  nodes: Record<string, number>;
  widest: { cluster: string; namespace: string; name: string; failing: number; assigned: number };
  everywhere: { cluster: string; names: string[]; nodes: number };
  lookAlike: { name: string; clusters: string[]; nodesEach: number };
  silent: string[];
  /** True stale-agent counts per cluster (silent clusters' agents included). */
  stale: Record<string, number>;
  staleTotal: number;
  maintenance: { cluster: string; name: string };
  unsupported: { cluster: string; name: string };
  /** Zone label of every agent pod (by node index: zone-a, zone-b, zone-c). */
  zoneLabel: string;
};

const NAMESPACE = 'default';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ZONE = 'topology.kubernetes.io/zone';
const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const CAPABILITIES = JSON.stringify(['httpPing', 'dns', 'netDial', 'heartbeat', 'k8sApi']);

type TestShape = { name: string; plugin: string; importance: string; displayName: string };

/** The tests every cluster declares: the same manifests applied fleet-wide, as people do. */
export function testShapes(count: number): TestShape[] {
  const fixed: TestShape[] = [
    { name: 'api-health', plugin: 'httpPing', importance: 'critical', displayName: 'API health' },
    { name: 'dns-resolve', plugin: 'dns', importance: 'high', displayName: 'DNS resolve' },
    ...[1, 2, 3, 4, 5].map((i) => ({
      name: `dns-${i}`,
      plugin: 'dns',
      importance: 'medium',
      displayName: `DNS zone ${i}`,
    })),
  ];
  const more = ['httpPing', 'netDial', 'heartbeat', 'k8sApi'];
  const importance = ['critical', 'high', 'medium', 'low'];
  for (let i = fixed.length; i < count; i++) {
    const plugin = more[i % more.length] as string;
    fixed.push({
      name: `${plugin.toLowerCase()}-${i}`,
      plugin,
      importance: importance[i % importance.length] as string,
      displayName: `${plugin} check ${i}`,
    });
  }
  return fixed.slice(0, count);
}

/** Multi-row INSERTs in write batches, flushed as they fill (the seed never holds a table). */
export class Inserter {
  private rows: unknown[][] = [];
  private readonly perStatement: number;
  private readonly client: Client;
  private readonly table: string;
  private readonly columns: string[];
  constructor(client: Client, table: string, columns: string[]) {
    this.client = client;
    this.table = table;
    this.columns = columns;
    this.perStatement = Math.max(1, Math.floor(30_000 / columns.length));
  }
  async push(row: unknown[]): Promise<void> {
    this.rows.push(row);
    if (this.rows.length >= this.perStatement * 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const placeholders = `(${this.columns.map(() => '?').join(',')})`;
    const batch: InStatement[] = [];
    for (let i = 0; i < this.rows.length; i += this.perStatement) {
      const part = this.rows.slice(i, i + this.perStatement);
      batch.push({
        sql: `INSERT INTO ${this.table} (${this.columns.join(',')}) VALUES ${part.map(() => placeholders).join(',')}`,
        args: part.flat() as never[],
      });
    }
    this.rows = [];
    await this.client.batch(batch, 'write');
    // libsql frees a statement's native memory in a finalizer that runs only when the event loop
    // turns: one macrotask per batch keeps a 10M-run seed at ~100 MB instead of tens of GB.
    await new Promise((r) => setImmediate(r));
  }
}

/** Writes rows held in memory through an Inserter (the benchmark's other seeds). */
export async function insertRows(client: Client, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const inserter = new Inserter(client, table, columns);
  for (const row of rows) await inserter.push(row);
  await inserter.flush();
}

type ClusterPlan = {
  name: string;
  nodes: number;
  silent: boolean;
  /** Node indexes whose agents are stale. */
  staleBelow: number;
};

/** How a test fares in a cluster: which node indexes fail, since when, or a special state. */
type Fate = {
  failing: (node: number) => boolean;
  failingCount: number;
  since: number | null;
  message: string | null;
  maintenance?: boolean;
  unsupported?: boolean;
};

export async function seedFleet(client: Client, now: number, scale: FleetScale): Promise<SeededFleet> {
  if (scale.clusters < 8) throw new Error('the fleet scenario needs at least 8 clusters');
  const names = Array.from({ length: scale.clusters }, (_, c) => `edge-${String(c).padStart(3, '0')}`);
  const rest = Math.max(0, scale.agents - scale.bigClusterNodes);
  const plans: ClusterPlan[] = names.map((name, c) => {
    const nodes =
      c === 0
        ? scale.bigClusterNodes
        : Math.floor(rest / (scale.clusters - 1)) + (c - 1 < rest % (scale.clusters - 1) ? 1 : 0);
    const silent = c >= scale.clusters - 2;
    return { name, nodes, silent, staleBelow: silent ? nodes : c === 2 ? Math.min(8, nodes) : 0 };
  });
  const shapes = testShapes(scale.testsPerCluster);
  const lookAlikeClusters = names.slice(2, scale.clusters - 2);
  const silentSince = now - 3 * HOUR;

  const fateOf = (c: number, shape: TestShape, nodes: number): Fate => {
    const none: Fate = { failing: () => false, failingCount: 0, since: null, message: null };
    if (c === 0 && shape.name === 'dns-resolve') {
      const healthy = Math.max(1, Math.round(nodes / 100));
      return {
        failing: (n) => n >= healthy,
        failingCount: nodes - healthy,
        since: now - 12 * MINUTE,
        message: 'lookup kubernetes.default.svc: i/o timeout',
      };
    }
    if (c === 1 && /^dns-\d$/.test(shape.name))
      return {
        failing: () => true,
        failingCount: nodes,
        since: now - 40 * MINUTE,
        message: 'SERVFAIL from 10.96.0.10',
      };
    if (shape.name === 'api-health' && c >= 2 && c < scale.clusters - 2)
      return {
        failing: (n) => n < 3,
        failingCount: Math.min(3, nodes),
        since: now - 2 * HOUR,
        message: 'status 503 does not match 2..',
      };
    if (c === 3 && shape.name === shapes[shapes.length - 1]?.name) return { ...none, maintenance: true };
    if (c === 4 && shape.name === shapes[shapes.length - 2]?.name) return { ...none, unsupported: true };
    return none;
  };

  const clusterRows = new Inserter(client, 'clusters', ['name', 'created_at', 'last_result_at', 'labels']);
  const agentRows = new Inserter(client, 'agents', [
    'id',
    'cluster',
    'node',
    'pod',
    'pod_namespace',
    'version',
    'capabilities',
    'pod_labels',
    'registered_at',
    'last_poll_at',
    'state',
    'assignment_version',
    'assignment_hash',
  ]);
  const testRows = new Inserter(client, 'tests', [
    'id',
    'cluster',
    'namespace',
    'name',
    'api_version',
    'spec',
    'raw',
    'spec_hash',
    'generation',
    'revision',
    'plugin',
    'node_selector',
    'display_name',
    'importance',
    'labels',
    'created_at',
    'updated_at',
    'state',
    'passing_agents',
    'failing_agents',
    'unsupported_agents',
    'assigned_agents',
    'agents_lacking_plugin',
    'last_run_at',
    'failing_since',
    'last_failure_message',
    'maintenance_from',
    'maintenance_until',
    'maintenance_reason',
    'allowance_ms',
  ]);
  const latestRows = new Inserter(client, 'latest', [
    'test_id',
    'agent_id',
    'cluster',
    'run_id',
    'status',
    'marks',
    'max_marks',
    'pass_ratio',
    'started_at',
    'ended_at',
    'duration_ms',
    'message',
    'consecutive_failures',
    'last_failed_run_id',
    'failing_since',
  ]);

  const assignmentRows = new Inserter(client, 'assignments', ['test_id', 'agent_id', 'cluster', 'assigned_at']);

  type SeededTest = { id: number; cluster: number; nodes: number; fate: Fate; lastAt: number };
  const seeded: SeededTest[] = [];
  const stale: Record<string, number> = {};
  const nodesOf: Record<string, number> = {};
  let testId = 0;
  let agentCount = 0;
  for (const [c, plan] of plans.entries()) {
    const lastAt = plan.silent ? silentSince : now - 20_000;
    nodesOf[plan.name] = plan.nodes;
    await clusterRows.push([plan.name, now - 30 * 24 * HOUR, lastAt, JSON.stringify({ region: `region-${c % 8}` })]);
    for (let n = 0; n < plan.nodes; n++) {
      const isStale = n < plan.staleBelow;
      agentCount++;
      await agentRows.push([
        `${plan.name}-agent-${n}`,
        plan.name,
        `node-${String(n).padStart(4, '0')}`,
        `synthfleet-agent-${n}`,
        'synthfleet',
        '0.1.0',
        CAPABILITIES,
        JSON.stringify({ app: 'synthfleet-agent', [ZONE]: ZONES[n % ZONES.length] }),
        now - 30 * 24 * HOUR,
        isStale ? (plan.silent ? silentSince : now - 20 * MINUTE) : now - 3_000,
        isStale ? 'stale' : 'live',
        1,
        'seeded',
      ]);
    }
    if (plan.staleBelow) stale[plan.name] = plan.staleBelow;
    for (const shape of shapes) {
      testId++;
      const fate = fateOf(c, shape, plan.nodes);
      const spec = JSON.stringify({
        plugin: shape.plugin,
        repeat: '1m',
        node: '*',
        importance: shape.importance,
        displayName: shape.displayName,
        timeouts: { init: '10s', run: '10s' },
        config: shape.plugin === 'dns' ? { domains: ['kubernetes.default.svc'] } : { address: '127.0.0.1:9' },
      });
      const state = fate.unsupported ? 'unsupported' : fate.failingCount > 0 ? 'failing' : 'passing';
      const assigned = fate.unsupported ? 0 : plan.nodes;
      await testRows.push([
        testId,
        plan.name,
        NAMESPACE,
        shape.name,
        'synthfleet.dev/v1',
        spec,
        spec,
        `h${testId}`,
        1,
        1,
        shape.plugin,
        '*',
        shape.displayName,
        shape.importance,
        JSON.stringify({ team: `team-${c % 5}` }),
        now - 30 * 24 * HOUR,
        now - 30 * 24 * HOUR,
        state,
        assigned - fate.failingCount,
        fate.failingCount,
        fate.unsupported ? plan.nodes : 0,
        assigned,
        fate.unsupported ? plan.nodes : 0,
        fate.unsupported ? null : lastAt,
        fate.since,
        fate.message,
        fate.maintenance ? now - 30 * MINUTE : null,
        fate.maintenance ? now + 90 * MINUTE : null,
        fate.maintenance ? 'kernel upgrade' : null,
        // Two periods of 1m and the 10s run timeout (contracts' resultAllowanceMs), as the API keeps it.
        2 * MINUTE + 10_000,
      ]);
      seeded.push({ id: testId, cluster: c, nodes: plan.nodes, fate, lastAt });
      if (fate.unsupported) continue;
      for (let n = 0; n < plan.nodes; n++) {
        const bad = fate.failing(n);
        const ended = lastAt - (n % 50) * 200;
        const runId = `latest-${testId}-${n}`;
        await assignmentRows.push([testId, `${plan.name}-agent-${n}`, plan.name, now - 30 * 24 * HOUR]);
        await latestRows.push([
          testId,
          `${plan.name}-agent-${n}`,
          plan.name,
          runId,
          bad ? 'fail' : 'pass',
          bad ? 0 : 1,
          1,
          bad ? 0 : 1,
          ended - 40,
          ended,
          35 + (n % 40),
          bad ? fate.message : null,
          bad ? Math.round(((now - (fate.since ?? now)) / MINUTE) | 0) : 0,
          bad ? runId : null,
          bad ? fate.since : null,
        ]);
      }
    }
  }
  for (const i of [clusterRows, agentRows, testRows, latestRows, assignmentRows]) await i.flush();
  // The maintenance window itself, as POST /maintenance stores it (the sweep keeps the test's span).
  const last = shapes.length - 1;
  await client.execute({
    sql: `INSERT INTO maintenance_windows (cluster, namespace, name, labels, reason, start_at, end_at, created_by, created_at)
          VALUES (?, ?, ?, '{}', 'kernel upgrade', ?, ?, 'seed', ?)`,
    args: [
      names[3] as string,
      NAMESPACE,
      shapes[last]?.name as string,
      now - 30 * MINUTE,
      now + 90 * MINUTE,
      now - 30 * MINUTE,
    ],
  });

  // Runs over the last day, spread over every test and its nodes; a scenario failure fails the
  // runs after it began, and one run in 97 fails anywhere (noise).
  const runRows = new Inserter(client, 'runs', [
    'id',
    'test_id',
    'agent_id',
    'cluster',
    'revision',
    'status',
    'marks',
    'max_marks',
    'pass_ratio',
    'started_at',
    'ended_at',
    'duration_ms',
    'details',
    'gauges',
    'received_at',
  ]);
  const runnable = seeded.filter((t) => !t.fate.unsupported);
  const SPAN = 24 * HOUR;
  for (let i = 0; i < scale.runs; i++) {
    const t = runnable[i % runnable.length] as SeededTest;
    const n = Math.floor(i / runnable.length) % t.nodes;
    // Spread in time up to the test's last result (a silent cluster's runs stop 3 hours ago).
    const at = t.lastAt - SPAN + Math.floor((i / scale.runs) * SPAN);
    const ok = !(t.fate.failing(n) && t.fate.since !== null && at >= t.fate.since) && i % 97 !== 0;
    await runRows.push([
      `run-${i}`,
      t.id,
      `${names[t.cluster]}-agent-${n}`,
      names[t.cluster],
      1,
      ok ? 'pass' : 'fail',
      ok ? 1 : 0,
      1,
      ok ? 1 : 0,
      at,
      at + 40,
      20 + (i % 60),
      ok ? '{"_log":"ok"}' : `{"_log":"failed","_error":${JSON.stringify(t.fate.message ?? 'status 503')}}`,
      '[]',
      at + 100,
    ]);
  }
  await runRows.flush();

  return {
    now,
    clusters: names,
    agents: agentCount,
    tests: testId,
    runs: scale.runs,
    nodes: nodesOf,
    widest: {
      cluster: names[0] as string,
      namespace: NAMESPACE,
      name: 'dns-resolve',
      failing: scale.bigClusterNodes - Math.max(1, Math.round(scale.bigClusterNodes / 100)),
      assigned: scale.bigClusterNodes,
    },
    everywhere: {
      cluster: names[1] as string,
      names: [1, 2, 3, 4, 5].map((i) => `dns-${i}`),
      nodes: plans[1]?.nodes ?? 0,
    },
    lookAlike: { name: 'api-health', clusters: lookAlikeClusters, nodesEach: 3 },
    silent: plans.filter((p) => p.silent).map((p) => p.name),
    stale,
    staleTotal: Object.values(stale).reduce((a, b) => a + b, 0),
    maintenance: { cluster: names[3] as string, name: shapes[last]?.name as string },
    unsupported: { cluster: names[4] as string, name: shapes[last - 1]?.name as string },
    zoneLabel: ZONE,
  };
}
