/**
 * Fault tests on the whole fleet (see fleet.ts): processes killed and restarted, watches dropped
 * with 410s, a burst of changes, malformed input from every side. Each counts what it can end to
 * end (run ids, objects, revisions) and asserts that nothing was lost or duplicated.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentList, RegisterAgentResponse, TestDetail, TestPage } from '@synthfleet/contracts';
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
    // A short deadline so a dead agent's `$` tests move within a test's time, long enough that live
    // agents (polling every 5 s) are not taken for dead on a loaded machine; the sweep looks every second.
    apiEnv: { AGENT_DEADLINE_SECONDS: '10', SWEEP_INTERVAL_SECONDS: '1' },
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
        const passed = (await fleet.runsOf('edge', 'solo')).filter((r) => r.status === 'pass');
        const nodes = await nodesOf(edge, passed);
        owner = [...nodes][0] ?? '';
        return nodes.size === 1 && passed.length >= 3;
      },
      90_000,
      'solo ran three times on one node',
    );
    // Some of its runs are safely delivered before the kill: one logged over 2 s ago is stored.
    const dead = edge.agents.get(owner) as AgentProcess;
    await waitFor(
      async () => {
        const stored = new Set((await fleet.runsOf('edge', 'solo')).map((r) => r.runId));
        return loggedRuns(dead, 'solo').some((r) => r.time < Date.now() - 2000 && stored.has(r.runId));
      },
      30_000,
      `a run ${owner} logged over 2 s ago is stored`,
    );
    const killedAt = Date.now();
    await dead.stop('SIGKILL');
    alive.delete(owner);
    const byNode = async () => new Map((await edge.apiAgents()).map((a) => [a.node, a]));
    await waitFor(async () => (await byNode()).get(owner)?.state === 'stale', 60_000, `the API marks ${owner} stale`);
    await waitFor(
      async () => {
        // The last three runs since the kill come from one live node. (A stall on a loaded machine
        // may move the test between live agents meanwhile: only where it settles counts.)
        const after = (await fleet.runsOf('edge', 'solo'))
          .filter((r) => r.status === 'pass' && Date.parse(r.startTime) > killedAt)
          .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime))
          .slice(-3);
        const nodes = await nodesOf(edge, after);
        return after.length === 3 && nodes.size === 1 && !nodes.has(owner);
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
                        summary: `Agent on ${owner} in edge has stopped pushing`,
                        description: `The synthfleet agent on node ${owner} (cluster edge) last pushed 8m 0s ago. Its test results in Prometheus are stale. If the node is gone for good, delete its group (see the runbook).`,
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
    return new Map(TestPage.parse(r.json).tests.map((t) => [t.name, t]));
  }
  async function apiAddress(name: string): Promise<string | undefined> {
    const r = await fleet.api.call(`/api/v1/tests/edge/default/${name}`);
    return r.status === 200
      ? (((TestDetail.parse(r.json).spec.config ?? {}) as { address?: string }).address ?? '')
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

  it('refuses bad manifests with a status that names the fault, and keeps them out of the API', async () => {
    const runsBefore = (await fleet.runsOf('edge', 'steady')).length;
    edge.apply('bad-plugin', spec({ plugin: 'teleport', ...at('bad') }));
    edge.apply('bad-repeat', spec({ repeat: '10', ...at('bad') }));
    edge.kube.apply(SYNTHETIC_TESTS, { metadata: { name: 'no-spec', namespace: 'default' } });
    const named: Record<string, RegExp> = { 'bad-plugin': /plugin/, 'bad-repeat': /repeat/, 'no-spec': /spec/ };
    await waitFor(
      () =>
        Object.entries(named).every(([name, field]) => {
          const conditions = (edge.get(name)?.status?.conditions ?? []) as { reason: string; message: string }[];
          return conditions.some((c) => c.reason === 'InvalidSpec' && field.test(c.message));
        }),
      60_000,
      'each bad object’s status says InvalidSpec and names the field',
    );
    for (const name of Object.keys(named)) expect(await apiAddress(name), name).toBeUndefined();
    // The rest of the cluster goes on.
    await waitFor(
      async () => (await fleet.runsOf('edge', 'steady')).length > runsBefore + alive.size,
      60_000,
      'steady keeps running',
    );
    for (const name of Object.keys(named)) edge.remove(name);
  });

  it('answers fuzzed, truncated and oversized bodies on every route with a clear 4xx, and changes nothing stored', async () => {
    const api = fleet.api;
    const token = await api.clusterToken('fuzz');
    const test = {
      apiVersion: 'synthfleet.dev/v1',
      kind: 'SyntheticTest',
      metadata: { name: 't1', namespace: 'default' },
      spec: { plugin: 'httpPing', repeat: '1m', node: '*', config: { address: 'http://127.0.0.1:9/' } },
    };
    expect(
      (await api.call('/api/v1/clusters/fuzz/tests/default/t1', { method: 'PUT', token, body: test })).status,
    ).toBe(201);
    const registered = await api.call('/api/v1/agents', {
      method: 'POST',
      token,
      body: { node: 'fuzz-node', version: '1.0.0' },
    });
    expect(registered.status).toBe(201);
    const agentId = RegisterAgentResponse.parse(registered.json).agentId;
    const now = Date.now();
    const run = (i: number) => ({
      runId: `fuzz-run-${i}-0123456789`,
      namespace: 'default',
      name: 't1',
      revision: 1,
      status: 'pass',
      marks: 1,
      maxMarks: 1,
      startTime: new Date(now - 1000 * (i + 1)).toISOString(),
      endTime: new Date(now - 1000 * i).toISOString(),
      details: { _log: 'ok' },
    });
    const batch = { agentId, runs: [run(0), run(1), run(2)] };
    const stored = await api.call('/api/v1/runs', { method: 'POST', token, body: batch });
    expect(stored.json).toMatchObject({ accepted: 3 });

    /** Everything stored about cluster fuzz, and the tokens. */
    const state = async () =>
      JSON.stringify(
        await Promise.all([
          api.call('/api/v1/tests?cluster=fuzz'),
          api.call('/api/v1/tests/fuzz/default/t1'),
          api.call('/api/v1/tests/fuzz/default/t1/runs?limit=500'),
          api.call('/api/v1/tests/fuzz/default/t1/remedies'),
          api.call('/api/v1/clusters/fuzz/agents'),
          api.call('/api/v1/tokens'),
        ]),
      );
    // This agent never polls: let it go stale first (6 s deadline), so what follows changes nothing by itself.
    await waitFor(
      async () => AgentList.parse((await api.call('/api/v1/clusters/fuzz/agents')).json).agents[0]?.state === 'stale',
      60_000,
      'the fuzz agent went stale',
    );
    const before = await state();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await state()).toBe(before);

    type Route = { method: string; path: string; token: string; valid: unknown; paths: string[]; strict: boolean };
    const routes: Route[] = [
      {
        method: 'PUT',
        path: '/api/v1/clusters/fuzz/tests/default/t1',
        token,
        valid: test,
        paths: ['apiVersion', 'kind', 'metadata', 'metadata.name', 'spec', 'spec.plugin', 'spec.repeat', 'spec.node'],
        strict: false,
      },
      {
        method: 'PUT',
        path: '/api/v1/clusters/fuzz/tests',
        token,
        valid: { items: [test] },
        paths: ['items', 'items.0', 'items.0.metadata', 'items.0.spec', 'items.0.spec.plugin', 'items.0.kind'],
        strict: false,
      },
      {
        method: 'POST',
        path: '/api/v1/agents',
        token,
        valid: { node: 'fuzz-node-2', version: '1.0.0', heartbeatUrl: 'http://127.0.0.1:9/heartbeat' },
        paths: ['node', 'version', 'heartbeatUrl'],
        strict: true,
      },
      {
        method: 'POST',
        path: '/api/v1/runs',
        token,
        valid: { agentId, runs: [run(7)] },
        paths: ['agentId', 'runs', 'runs.0', 'runs.0.runId', 'runs.0.status', 'runs.0.marks', 'runs.0.startTime'],
        strict: true,
      },
      {
        method: 'POST',
        path: `/api/v1/agents/${agentId}/remedies`,
        token,
        // t1 has no remedy: even this valid claim is refused and stores nothing.
        valid: { namespace: 'default', name: 't1', revision: 1, runId: 'run-fuzz-00001', failures: 3 },
        paths: ['namespace', 'name', 'revision', 'runId', 'failures'],
        strict: true,
      },
      {
        method: 'PUT',
        path: `/api/v1/agents/${agentId}/remedies/00000000-0000-4000-8000-000000000000`,
        token,
        valid: { status: 'succeeded', message: 'fixed' },
        paths: ['status', 'message'],
        strict: true,
      },
      {
        method: 'POST',
        path: '/api/v1/tokens',
        token: api.admin,
        valid: { role: 'viewer', name: 'fuzz' },
        paths: ['role', 'name'],
        strict: true,
      },
    ];

    const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
    const setAt = (value: unknown, path: string[], replacement: unknown): unknown => {
      if (path.length === 0) return replacement;
      const [head, ...rest] = path as [string, ...string[]];
      const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string, unknown>;
      copy[head] = setAt(copy[head], rest, replacement);
      return copy;
    };
    const getAt = (value: unknown, path: string[]): unknown =>
      path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value);

    /** Bodies that can never be valid: each breaks the contract in a way no schema of ours accepts. */
    const badBodies = (r: Route): fc.Arbitrary<{ body: string; type: string; why: string }> => {
      const json = (why: string) => (v: unknown) => ({ body: JSON.stringify(v), type: 'application/json', why });
      const text = JSON.stringify(r.valid);
      const variants: fc.Arbitrary<{ body: string; type: string; why: string }>[] = [
        // A field of the wrong type.
        fc.constantFrom(...r.paths).chain((p) => {
          const path = p.split('.');
          const was = kind(getAt(r.valid, path));
          return fc
            .jsonValue({ maxDepth: 2 })
            .filter((v) => kind(v) !== was)
            .map((v) => json(`${p} as ${kind(v)}`)(setAt(r.valid, path, v)));
        }),
        // Not an object at all.
        fc
          .jsonValue({ maxDepth: 2 })
          .filter((v) => kind(v) !== 'object')
          .map((v) => json(`a ${kind(v)} body`)(v)),
        // Cut short anywhere: never valid JSON.
        fc.integer({ min: 0, max: text.length - 1 }).map((n) => ({
          body: text.slice(0, n),
          type: 'application/json',
          why: `truncated at ${n} of ${text.length}`,
        })),
        // Not JSON.
        fc
          .string({ maxLength: 200 })
          .filter((t) => {
            try {
              return kind(JSON.parse(t)) !== 'object';
            } catch {
              return true;
            }
          })
          .map((t) => ({ body: t, type: 'application/json', why: 'not a JSON object' })),
        // A valid body under the wrong media type.
        fc
          .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data')
          .map((type) => ({ body: text, type, why: `sent as ${type}` })),
      ];
      if (r.strict) {
        variants.push(
          fc
            .string({ minLength: 1, maxLength: 20 })
            .filter((k) => !(k in (r.valid as object)) && k !== '__proto__')
            .map((k) => json(`unknown field ${JSON.stringify(k)}`)({ ...(r.valid as object), [k]: 1 })),
        );
      }
      return fc.oneof(...variants);
    };

    const send = (r: Route, body: string, type: string) =>
      fetch(`${api.url}${r.path}`, {
        method: r.method,
        headers: { authorization: `Bearer ${r.token}`, 'content-type': type },
        body,
      });
    for (const r of routes) {
      await fc.assert(
        fc.asyncProperty(badBodies(r), async ({ body, type, why }) => {
          const res = await send(r, body, type);
          const answer = (await res.json()) as { error?: { message?: string } };
          expect(res.status, `${r.method} ${r.path} with ${why}: ${JSON.stringify(answer)}`).toBeGreaterThanOrEqual(
            400,
          );
          expect(res.status, `${r.method} ${r.path} with ${why}`).toBeLessThan(500);
          expect(answer.error?.message, `${r.method} ${r.path} with ${why}`).toMatch(/\w/);
        }),
        { numRuns: 150 },
      );
      // Oversized: a well-formed body past the route's limit.
      const big = JSON.stringify({ ...(r.valid as object), pad: 'x'.repeat(9 * 1024 * 1024) });
      const res = await send(r, big, 'application/json');
      expect([r.path, res.status]).toEqual([r.path, 413]);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/larger than \d+ bytes/);
    }

    // Fuzzed path parameters and queries on the reads and deletes: never a 500.
    const segment = fc.string({ maxLength: 40 }).map((t) => encodeURIComponent(t));
    const query = fc
      .array(fc.tuple(fc.constantFrom('cluster', 'limit', 'cursor', 'status', 'wait', 'version', 'q'), fc.string()), {
        maxLength: 4,
      })
      .map((pairs) => new URLSearchParams(pairs).toString());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          (_: string, b: string) => `GET /api/v1/tests?${b}`,
          (a: string, b: string) => `GET /api/v1/tests/fuzz/default/${a}/runs?${b}`,
          (_: string, b: string) => `GET /api/v1/tests/fuzz/default/t1/runs?${b}`,
          (a: string, b: string) => `GET /api/v1/tests/fuzz/default/${a}/remedies?${b}`,
          (_: string, b: string) => `GET /api/v1/fleet?${b}`,
          (a: string, b: string) => `GET /api/v1/agents/${a}/assignments?${b}`,
          (a: string) => `DELETE /api/v1/tokens/${a}`,
          (a: string) => `DELETE /api/v1/clusters/fuzz/tests/${a}/t1`,
          (a: string) => `DELETE /api/v1/clusters/fuzz/tests/default/${a}x`,
        ),
        segment,
        query,
        async (route, a, b) => {
          const [method, path] = route(a, b).split(' ') as [string, string];
          const res = await fetch(`${api.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${path.includes('tokens') ? api.admin : token}` },
          });
          await res.arrayBuffer();
          expect(res.status, `${method} ${path}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
    // A bad token on a write: 401, nothing stored.
    const unauthorized = await fetch(`${api.url}/api/v1/runs`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-token', 'content-type': 'application/json' },
      body: JSON.stringify({ agentId, runs: [run(9)] }),
    });
    expect(unauthorized.status).toBe(401);

    expect(await state()).toBe(before);
    // The API served the fleet throughout: the agents' results still arrive.
    const count = (await fleet.runsOf('edge', 'steady')).length;
    await waitFor(async () => (await fleet.runsOf('edge', 'steady')).length > count, 60_000, 'steady still delivered');
  });
});
