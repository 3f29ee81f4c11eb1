/**
 * Change-to-agent propagation: a SyntheticTest edited in a cluster (the Kubernetes API double)
 * until each agent has applied it, and until each agent's next run uses it. The whole fleet runs
 * as real processes on 127.0.0.1 (test/system/fleet.ts): the double, a syncer, the API (Node
 * entry, libSQL file), three agents. The baseline, in the same run, is the same edit PUT straight
 * to the API with the cluster's token (no Kubernetes, no syncer): what the syncer's path adds.
 * With the agents' default CHANGE_SPREAD_SECONDS an edited 1 s test first runs anywhere within its
 * next second; a second fleet whose agents run an edited test at once (0) measures the path to
 * the run without the schedule's share.
 */

import { waitFor } from '../test/support/wait.ts';
import { spec, startFleet } from '../test/system/fleet.ts';
import { percentile } from './support/http.ts';
import type { BenchRow } from './support/result.ts';

const NODES = ['prop-1', 'prop-2', 'prop-3'];
const EDITS = 30;

type Samples = { applied: number[]; firstRun: number[] };

/**
 * One fleet: the edit through the cluster, then the same edit PUT straight to the API. `agentEnv`
 * configures the agents (CHANGE_SPREAD_SECONDS decides how soon an edited test first runs).
 */
async function measureFleet(agentEnv: Record<string, string> = {}): Promise<{ viaKube: Samples; direct: Samples }> {
  const fleet = await startFleet({
    clusters: { prop: NODES },
    // The baseline's test exists only in the API: no periodic snapshot may remove it meanwhile.
    syncerEnv: { RESYNC_SECONDS: '86400' },
    agentEnv,
  });
  try {
    const cluster = fleet.clusters.prop;
    if (!cluster) throw new Error('no cluster');
    const agents = [...cluster.agents.values()];
    const address = (path: string) => ({ config: { address: `http://${fleet.target.url}/${path}` } });

    /** Edits a test EDITS times; for each, how long until every agent applied it and first ran it. */
    async function measure(name: string, edit: (s: Record<string, unknown>) => Promise<void> | void): Promise<Samples> {
      const applied: number[] = [];
      const editedAt = new Map<string, number>();
      await edit(spec({ node: '*', ...address(`${name}/0`) }));
      await waitFor(
        () => agents.every((a) => a.logs.some((l) => l.msg === 'assignment applied' && Number(l.tests) >= 1)),
        60_000,
        `${name}: every agent has the test`,
      );
      for (let k = 1; k <= EDITS; k++) {
        const marks = agents.map((a) => a.logs.length);
        const path = `${name}/${k}`;
        const t0 = Date.now();
        editedAt.set(path, t0);
        await edit(spec({ node: '*', ...address(path) }));
        const lines = await Promise.all(
          agents.map(async (a, i) => {
            let line: { time: number } | undefined;
            await waitFor(
              () => {
                line = a.logs
                  .slice(marks[i])
                  .find((l) => l.msg === 'assignment applied' && Number(l.restarted) >= 1) as typeof line;
                return line !== undefined;
              },
              30_000,
              `${path}: applied by ${NODES[i]}`,
            );
            return line as { time: number };
          }),
        );
        for (const l of lines) applied.push(l.time - t0);
        // The test repeats every second from a random offset: give every agent time to run it.
        await new Promise((r) => setTimeout(r, 1500));
      }
      const firstRun = new Map<string, number>();
      for (const run of await fleet.runsOf('prop', name)) {
        const path = new RegExp(`/(${name}/\\d+):`).exec(run.details._log ?? '')?.[1];
        const t0 = path ? editedAt.get(path) : undefined;
        if (t0 === undefined) continue;
        const key = `${path} ${run.agentId}`;
        firstRun.set(key, Math.min(firstRun.get(key) ?? Number.POSITIVE_INFINITY, Date.parse(run.startTime) - t0));
      }
      return { applied, firstRun: [...firstRun.values()] };
    }

    const viaKube = await measure('kube', (s) => {
      cluster.apply('kube', s);
    });
    // The baseline runs alone, as the edited test did.
    cluster.remove('kube');
    await waitFor(
      () => agents.every((a) => a.logs.some((l) => l.msg === 'assignment applied' && Number(l.tests) === 0)),
      60_000,
      'every agent dropped the test',
    );
    const direct = await measure('direct', async (s) => {
      const r = await fleet.api.call('/api/v1/clusters/prop/tests/default/direct', {
        method: 'PUT',
        token: cluster.token,
        body: { apiVersion: 'synthfleet.dev/v1', kind: 'SyntheticTest', metadata: { name: 'direct' }, spec: s },
      });
      if (r.status >= 300) throw new Error(`PUT direct: ${r.status} ${JSON.stringify(r.json)}`);
    });
    return { viaKube, direct };
  } finally {
    await fleet.stop();
  }
}

export async function benchPropagation(): Promise<BenchRow[]> {
  const { viaKube, direct } = await measureFleet();
  // The same fleet with agents that run an edited test at once instead of within its period.
  const now = await measureFleet({ CHANGE_SPREAD_SECONDS: '0' });
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const row = (metric: string, value: number, baseline: number, target?: string): BenchRow => ({
    bench: 'propagation',
    metric,
    unit: 'ms',
    value,
    baseline,
    baselineName: 'the same edit PUT straight to the API (no Kubernetes API, no syncer)',
    higherIsBetter: false,
    target,
  });
  const [ka, da, kr, dr, nk, nd] = [
    viaKube.applied,
    direct.applied,
    viaKube.firstRun,
    direct.firstRun,
    now.viaKube.firstRun,
    now.direct.firstRun,
  ].map(sorted) as [number[], number[], number[], number[], number[], number[]];
  const n = `${EDITS} edits × ${NODES.length} agents`;
  return [
    row(
      `edit in the cluster until every agent applied it: p99 (${n})`,
      percentile(ka, 99),
      percentile(da, 99),
      '≤ 1000 ms',
    ),
    row(`edit in the cluster until every agent applied it: p50 (${n})`, percentile(ka, 50), percentile(da, 50)),
    row(
      `edit in the cluster until the agent's next run uses it: p99 (${kr.length} runs; repeat 1s, so up to 1 s is the schedule's)`,
      percentile(kr, 99),
      percentile(dr, 99),
    ),
    row(
      `edit in the cluster until the agent's next run uses it, agents with CHANGE_SPREAD_SECONDS=0 (an edited test runs at once): p99 (${nk.length} runs)`,
      percentile(nk, 99),
      percentile(nd, 99),
      '≤ 1000 ms',
    ),
  ];
}
