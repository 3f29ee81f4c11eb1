/**
 * Fault tests on the whole fleet (see fleet.ts): processes killed and restarted, watches dropped
 * with 410s, a burst of changes, malformed input from every side. Each counts what it can end to
 * end (run ids, objects, revisions) and asserts that nothing was lost or duplicated.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import type { AgentProcess } from '../support/processes.ts';
import { ROOT } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';
import { type Cluster, type Fleet, nodesOf, SYNTHETIC_TESTS, spec, startFleet } from './fleet.ts';

const NODES = ['edge-a', 'edge-b', 'edge-c'];
let fleet: Fleet;
let edge: Cluster;
/** Agents still alive (one is killed on purpose). */
const alive = new Set(NODES);

beforeAll(async () => {
  fleet = await startFleet({
    clusters: { edge: NODES },
    // A short deadline so a dead agent's `$` tests move within a test's time; the sweep looks every second.
    apiEnv: { AGENT_DEADLINE_SECONDS: '6', SWEEP_INTERVAL_SECONDS: '1' },
  });
  edge = fleet.clusters.edge as Cluster;
});
afterAll(async () => {
  await fleet?.stop();
});

const at = (path: string) => ({ config: { address: `http://${fleet.target.url}/${path}` } });

/** Run ids an agent logged as finished for one test, with the time it logged them. */
function loggedRuns(agent: AgentProcess, test: string): { runId: string; time: number }[] {
  return agent.logs
    .filter((l) => l.msg === 'run finished' && l.test === `edge/default/${test}`)
    .map((l) => ({ runId: l.runId as string, time: Number(l.time) }));
}

function allLogged(test: string): Set<string> {
  return new Set([...edge.agents.values()].flatMap((a) => loggedRuns(a, test).map((r) => r.runId)));
}

async function storedIds(test: string): Promise<string[]> {
  return (await fleet.runsOf('edge', test)).map((r) => r.runId);
}

/** No run id stored twice, none stored that no agent made, and every one in `mustHave` stored. */
async function expectExactlyOnce(test: string, mustHave: Set<string>): Promise<void> {
  await waitFor(
    async () => {
      const stored = new Set(await storedIds(test));
      return [...mustHave].every((id) => stored.has(id));
    },
    60_000,
    `every run of ${test} the agents logged (${mustHave.size}) stored`,
  );
  const stored = await storedIds(test);
  expect(stored.length).toBe(new Set(stored).size);
  const made = allLogged(test);
  expect(stored.filter((id) => !made.has(id))).toEqual([]);
  expect(mustHave.size).toBeGreaterThan(0);
}

// Each test waits on restarts of real processes, which a loaded machine takes a minute over.
describe('faults on the whole fleet', { timeout: 240_000 }, () => {
  it('loses and duplicates no run when the API is killed and restarted mid-run', async () => {
    edge.apply('steady', spec({ node: '*', ...at('steady') }));
    await waitFor(
      async () => (await nodesOf(edge, await fleet.runsOf('edge', 'steady'))).size === NODES.length,
      90_000,
      'steady runs from every agent',
    );
    await fleet.restartApi({ signal: 'SIGKILL', downMs: 3000 });
    await waitFor(
      () =>
        [...edge.agents.values()].every(
          (a) =>
            a.logs.some((l) => l.msg === 'results not delivered; spooled') &&
            a.logs.some((l) => l.msg === 'results delivered again after an outage'),
        ),
      90_000,
      'every agent spooled during the outage and delivered again after it',
    );
    // Everything the agents had made by now: some before the kill, some while the API was down.
    await expectExactlyOnce('steady', allLogged('steady'));
  });

  it('moves a dead agent’s `$` test to a live node, and the dead man’s switch fires for it alone', async () => {
    edge.apply('solo', spec({ node: '$', ...at('solo') }));
    let owner = '';
    await waitFor(
      async () => {
        const nodes = await nodesOf(
          edge,
          (await fleet.runsOf('edge', 'solo')).filter((r) => r.status === 'pass'),
        );
        owner = [...nodes][0] ?? '';
        return nodes.size === 1;
      },
      90_000,
      'solo runs on one node',
    );
    const dead = edge.agents.get(owner) as AgentProcess;
    const killedAt = Date.now();
    await dead.stop('SIGKILL');
    alive.delete(owner);
    const byNode = async () => new Map((await edge.apiAgents()).map((a) => [a.node, a]));
    await waitFor(async () => (await byNode()).get(owner)?.state === 'stale', 60_000, `the API marks ${owner} stale`);
    await waitFor(
      async () => {
        const after = (await fleet.runsOf('edge', 'solo')).filter(
          (r) => r.status === 'pass' && Date.parse(r.startTime) > killedAt,
        );
        const nodes = await nodesOf(edge, after);
        return nodes.size === 1 && !nodes.has(owner);
      },
      60_000,
      `solo moved from ${owner} to one live node`,
    );
    // Runs the dead agent made up to a flush interval (200 ms) before its SIGKILL were delivered;
    // what it held in memory at the kill is gone with it (by design: no disk write per run).
    const deliveredBeforeKill = new Set(
      loggedRuns(dead, 'solo')
        .filter((r) => r.time < killedAt - 2000)
        .map((r) => r.runId),
    );
    await expectExactlyOnce('solo', deliveredBeforeKill);

    // Its series stop being refreshed while the others' go on.
    const pushTimes = async () => {
      const text = await fleet.gateway.metrics();
      const out = new Map<string, number>();
      for (const m of text.matchAll(/^push_time_seconds\{([^}]*)\} (\S+)$/gm)) {
        const instance = /instance="([^"]+)"/.exec(m[1] as string)?.[1];
        if (/cluster="edge"/.test(m[1] as string) && instance) out.set(instance, Number(m[2]));
      }
      return out;
    };
    const first = await pushTimes();
    await waitFor(
      async () => {
        const now = await pushTimes();
        return [...alive].every((n) => (now.get(n) ?? 0) > (first.get(n) ?? 0));
      },
      30_000,
      'the live agents pushed again',
    );
    const second = await pushTimes();
    expect(second.get(owner)).toBe(first.get(owner));

    // Evaluate the alert rules with promtool on what the Pushgateway holds, as Prometheus scraping
    // it every minute would see it from here on: time 0 is the dead agent's last push, its push
    // time stays where the gateway holds it, the live ones advance as they were seen to.
    const origin = second.get(owner) as number;
    const series = [...second].map(([instance, value]) => ({
      series: `push_time_seconds{job="synthfleet",cluster="edge",instance="${instance}"}`,
      values: instance === owner ? '0x20' : `${(value - origin).toFixed(3)}+60x20`,
    }));
    const dir = mkdtempSync(join(tmpdir(), 'synthfleet-promtool-'));
    try {
      writeFileSync(
        join(dir, 'test.yaml'),
        toYaml({
          rule_files: [join(ROOT, 'infra/prometheus/synthfleet.rules.yaml')],
          evaluation_interval: '1m',
          tests: [
            {
              interval: '1m',
              input_series: series,
              alert_rule_test: [
                { eval_time: '7m', alertname: 'SynthfleetAgentSilent', exp_alerts: [] },
                {
                  eval_time: '8m',
                  alertname: 'SynthfleetAgentSilent',
                  exp_alerts: [
                    {
                      exp_labels: { severity: 'warning', job: 'synthfleet', cluster: 'edge', instance: owner },
                      exp_annotations: {
                        summary: `Agent on ${owner} in edge has not pushed for over 5 minutes`,
                        description: `The synthfleet agent on node ${owner} (cluster edge) last pushed 8m 0s ago. Its test results in Prometheus are stale.`,
                      },
                    },
                  ],
                },
                { eval_time: '20m', alertname: 'SynthfleetClusterSilent', exp_alerts: [] },
              ],
            },
          ],
        }),
      );
      const out = execFileSync('promtool', ['test', 'rules', join(dir, 'test.yaml')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(out).toMatch(/SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Distinct specs applied per test name: its API revision may not exceed this (no doubled writes). */
  const distinctSpecs = new Map<string, Set<string>>([
    ['steady', new Set(['steady'])],
    ['solo', new Set(['solo'])],
  ]);
  function applyCounted(name: string, s: Record<string, unknown>) {
    const seen = distinctSpecs.get(name) ?? new Set<string>();
    seen.add(JSON.stringify(s));
    distinctSpecs.set(name, seen);
    edge.apply(name, s);
  }
  function removeCounted(name: string) {
    distinctSpecs.delete(name);
    edge.remove(name);
  }

  type ApiTest = { namespace: string; name: string; revision: number };
  async function apiTests(): Promise<Map<string, ApiTest>> {
    const r = await fleet.api.call('/api/v1/tests?cluster=edge&limit=500');
    if (r.status !== 200) throw new Error(`tests: ${r.status} ${JSON.stringify(r.json)}`);
    return new Map((r.json as { tests: ApiTest[] }).tests.map((t) => [t.name, t]));
  }
  async function apiAddress(name: string): Promise<string | undefined> {
    const r = await fleet.api.call(`/api/v1/tests/edge/default/${name}`);
    return r.status === 200
      ? ((r.json as { spec: { config?: { address?: string } } }).spec.config?.address ?? '')
      : undefined;
  }

  /** The API holds exactly the cluster's tests, each with the cluster's config and no more revisions than specs. */
  async function expectConverged(what: string): Promise<void> {
    const inCluster = () =>
      new Map(edge.kube.list(SYNTHETIC_TESTS).map((o) => [o.metadata.name, o.spec as { config: { address: string } }]));
    await waitFor(
      async () => {
        const api = await apiTests();
        const cluster = inCluster();
        if ([...api.keys()].sort().join() !== [...cluster.keys()].sort().join()) return false;
        for (const [name, s] of cluster) if ((await apiAddress(name)) !== s.config.address) return false;
        return true;
      },
      90_000,
      `${what}: the API holds exactly the cluster's tests and specs`,
    );
    // Coalesced changes skip revisions; a doubled or out-of-order write would add one.
    for (const [name, t] of await apiTests()) {
      expect(t.revision, name).toBeGreaterThanOrEqual(1);
      expect(t.revision, name).toBeLessThanOrEqual(distinctSpecs.get(name)?.size ?? 0);
    }
  }

  it('converges on exactly the cluster’s objects after 410s and a syncer restart, nothing lost or doubled', async () => {
    const relists = () => edge.syncer.logs.filter((l) => l.msg === 'watch expired (410); relisting').length;
    const before = relists();
    // The watch stalls, changes happen, history is compacted, the stream ends: re-watching gets 410.
    edge.kube.pauseWatches();
    applyCounted('w1', spec({ repeat: '1m', ...at('w1') }));
    applyCounted('w2', spec({ repeat: '1m', ...at('w2') }));
    applyCounted('steady', spec({ node: '*', ...at('steady/2') }));
    edge.kube.compact();
    edge.kube.dropWatches();
    await waitFor(() => relists() > before, 60_000, 'the syncer got 410 and relisted');
    await expectConverged('after the 410');

    // The syncer killed; meanwhile a create, an update and a delete; history compacted again.
    await edge.restartSyncer({
      signal: 'SIGKILL',
      whileDown: () => {
        applyCounted('w3', spec({ repeat: '1m', ...at('w3') }));
        applyCounted('w1', spec({ repeat: '1m', ...at('w1/2') }));
        removeCounted('w2');
        edge.kube.compact();
      },
    });
    await expectConverged('after the syncer restart');
    // The agents run the update made while the syncer was down.
    await waitFor(
      async () =>
        (await fleet.runsOf('edge', 'steady')).some(
          (r) => r.revision === 2 && r.status === 'pass' && r.details._log?.includes('/steady/2'),
        ),
      60_000,
      'an agent ran steady revision 2',
    );
  });

  it('coalesces a burst of 1,000 test changes and converges on the last of each', async () => {
    const TESTS = 20;
    const EDITS = 50;
    const mirrored = () =>
      edge.syncer.logs.filter((l) => l.msg === 'mirrored' && String(l.test).startsWith('default/burst-')).length;
    for (let v = 1; v <= EDITS; v++) {
      for (let i = 0; i < TESTS; i++) {
        // burst-0 runs every second on every node so the agents' use of the last edit shows.
        applyCounted(`burst-${i}`, spec({ repeat: i === 0 ? '1s' : '1h', node: '*', ...at(`burst/${i}/${v}`) }));
      }
    }
    await expectConverged('after the burst');
    const writes = mirrored();
    expect(writes).toBeGreaterThanOrEqual(TESTS);
    expect(writes).toBeLessThan(TESTS * EDITS);
    const final = (await apiTests()).get('burst-0')?.revision;
    await waitFor(
      async () => {
        const runs = (await fleet.runsOf('edge', 'burst-0')).filter(
          (r) => r.revision === final && r.status === 'pass' && r.details._log?.includes(`/burst/0/${EDITS}`),
        );
        return (await nodesOf(edge, runs)).size === alive.size;
      },
      60_000,
      'every live agent ran the last edit of burst-0',
    );
    // Runs only ever used revisions the API handed out (no stale or invented ones).
    expect((await fleet.runsOf('edge', 'burst-0')).every((r) => (r.revision ?? 0) <= (final ?? 0))).toBe(true);
    for (let i = 0; i < TESTS; i++) removeCounted(`burst-${i}`);
    await expectConverged('after removing the burst');
  });
});
