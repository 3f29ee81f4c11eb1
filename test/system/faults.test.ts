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
import { type Cluster, type Fleet, nodesOf, spec, startFleet } from './fleet.ts';

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

describe('faults on the whole fleet', () => {
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
});
