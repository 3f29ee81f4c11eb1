import { ClusterList } from '@synthfleet/contracts';
/**
 * System test: two clusters, each a Kubernetes API double with a syncer and agents, one API and a
 * Pushgateway, all real processes on 127.0.0.1 (see fleet.ts). Tests enter as an operator's do:
 * SyntheticTests applied to a cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.ts';
import { type Cluster, type Fleet, nodesOf, spec, startFleet } from './fleet.ts';

const EAST = ['east-worker-1', 'east-worker-2', 'east-edge-1'];
const WEST = ['west-worker-1', 'west-edge-1'];
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ clusters: { east: EAST, west: WEST } });
});
afterAll(async () => {
  await fleet?.stop();
});

const sorted = (s: Iterable<string>) => [...s].sort();

/** Waits until the passing runs of a test come from exactly `expected` nodes (or `count` of `among`). */
async function runsFrom(cluster: string, test: string, check: (nodes: Set<string>) => boolean, what: string) {
  let seen = new Set<string>();
  await waitFor(
    async () => {
      const runs = (await fleet.runsOf(cluster, test)).filter((r) => r.status === 'pass');
      seen = await nodesOf(fleet.clusters[cluster] as Cluster, runs);
      return check(seen);
    },
    90_000,
    what,
  ).catch((err: Error) => {
    err.message += `\nseen: ${sorted(seen).join(', ')}`;
    throw err;
  });
  return seen;
}

const equals = (expected: string[]) => (nodes: Set<string>) => sorted(nodes).join() === sorted(expected).join();

describe('the fleet on one machine', { timeout: 180_000 }, () => {
  it('routes tests applied in each cluster to the agents their node selectors name (*, prefix, $)', async () => {
    const east = fleet.clusters.east as Cluster;
    const west = fleet.clusters.west as Cluster;
    const at = (path: string) => ({ config: { address: `http://${fleet.target.url}/${path}` } });
    east.apply('everywhere', spec({ node: '*', ...at('east/everywhere') }));
    east.apply('workers', spec({ node: 'east-worker*', ...at('east/workers') }));
    east.apply('one', spec({ node: '$', ...at('east/one') }));
    east.apply('one-edge', spec({ node: 'east-edge$', ...at('east/one-edge') }));
    west.apply('everywhere', spec({ node: '*', ...at('west/everywhere') }));

    await runsFrom('east', 'everywhere', equals(EAST), 'east/everywhere on every east node');
    await runsFrom('west', 'everywhere', equals(WEST), 'west/everywhere on every west node (and no east one)');
    await runsFrom('east', 'workers', equals(['east-worker-1', 'east-worker-2']), 'east/workers on the workers only');
    await runsFrom('east', 'one-edge', equals(['east-edge-1']), 'east/one-edge on the one edge node');
    const one = await runsFrom('east', 'one', (n) => n.size >= 1, 'east/one on some node');
    // `$` keeps its node while it lives: a few more runs later, still exactly one node.
    const count = (await fleet.runsOf('east', 'one')).length;
    await waitFor(
      async () => (await fleet.runsOf('east', 'one')).length >= count + 3,
      30_000,
      'three more runs of one',
    );
    expect(sorted(await runsFrom('east', 'one', () => true, 'east/one'))).toEqual(sorted(one));
    expect(one.size).toBe(1);
  });

  it('shows every cluster on the fleet view and every agent’s series in the Pushgateway', async () => {
    await waitFor(
      async () => {
        const r = await fleet.api.call('/api/v1/fleet');
        const clusters = ClusterList.parse(r.json).clusters;
        const by = Object.fromEntries(clusters.map((c) => [c.name, c]));
        return (
          by.east?.testsTotal === 4 &&
          by.east.testsPassing === 4 &&
          by.west?.testsTotal === 1 &&
          by.west.testsPassing === 1
        );
      },
      60_000,
      'fleet view: east 4/4 passing, west 1/1',
    );
    const series = (cluster: string, node: string, test: string) =>
      `synthfleet_test_success{cluster="${cluster}",instance="${node}",job="synthfleet",namespace="default",plugin="httpPing",test="${test}"} 1`;
    await waitFor(
      async () => {
        const text = await fleet.gateway.metrics();
        return (
          EAST.every((n) => text.includes(series('east', n, 'everywhere'))) &&
          WEST.every((n) => text.includes(series('west', n, 'everywhere'))) &&
          text.includes(series('east', 'east-worker-1', 'workers')) &&
          text.includes(series('east', 'east-edge-1', 'one-edge'))
        );
      },
      60_000,
      'every agent’s series in the Pushgateway',
    );
    const text = await fleet.gateway.metrics();
    // Series only where the test runs.
    expect(text).not.toContain(series('east', 'east-edge-1', 'workers').slice(0, -2));
    expect(text).not.toContain(series('west', 'west-worker-1', 'workers').slice(0, -2));
  });

  it('writes each test’s status back to its resource in the cluster', async () => {
    const east = fleet.clusters.east as Cluster;
    await waitFor(
      () => {
        const s = east.get('workers')?.status as { phase?: string; nodes?: string[] } | undefined;
        return s?.phase === 'Passing' && sorted(s.nodes ?? []).join() === 'east-worker-1,east-worker-2';
      },
      60_000,
      'status of east/workers: Passing on both workers',
    );
    const status = east.get('workers')?.status as Record<string, unknown>;
    expect(status).toMatchObject({ observedGeneration: 1, assignedAgents: 2, passingAgents: 2, failingAgents: 0 });
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'Valid', status: 'True' })]);
  });

  it('finds its peers with the mesh heartbeat probe', async () => {
    const east = fleet.clusters.east as Cluster;
    east.apply('mesh', { plugin: 'heartbeat', repeat: '1s', node: '*', config: { sizes: [1024], peers: 2 } });
    await waitFor(
      async () => {
        const runs = await fleet.runsOf('east', 'mesh');
        const full = runs.filter((r) => r.status === 'pass' && r.marks === 2 && r.maxMarks === 2);
        return (await nodesOf(east, full)).size === EAST.length;
      },
      90_000,
      'every east agent fetched heartbeats from both its peers',
    );
    const byId = new Map((await east.apiAgents()).map((a) => [a.agentId, a.node]));
    const full = (await fleet.runsOf('east', 'mesh')).filter((r) => r.status === 'pass' && r.maxMarks === 2);
    for (const run of full) {
      const self = byId.get(run.agentId) as string;
      const log = run.details._log ?? '';
      for (const peer of EAST) expect(log.includes(peer)).toBe(peer !== self);
    }
  });

  it('carries an edit in the cluster to the agents, and a removal too', async () => {
    const east = fleet.clusters.east as Cluster;
    east.apply('everywhere', spec({ node: '*', config: { address: `http://${fleet.target.url}/east/edited` } }));
    await waitFor(
      async () => {
        const runs = (await fleet.runsOf('east', 'everywhere')).filter(
          (r) => r.revision === 2 && r.status === 'pass' && r.details._log?.includes('/east/edited'),
        );
        return (await nodesOf(east, runs)).size === EAST.length;
      },
      60_000,
      'every east agent ran revision 2 against the new address',
    );
    east.remove('mesh');
    await waitFor(
      async () => (await fleet.api.call('/api/v1/tests/east/default/mesh')).status === 404,
      60_000,
      'east/mesh gone from the API',
    );
    await waitFor(
      () => [...east.agents.values()].every((a) => a.logs.some((l) => l.msg === 'assignment applied' && l.stopped)),
      60_000,
      'every east agent stopped a test',
    );
  });
});
