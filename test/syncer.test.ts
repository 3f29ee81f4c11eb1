import { KubeConfig } from '@kubernetes/client-node';
import { RegisterAgentResponse, RejectedList, TestDetail, TestPage } from '@synthfleet/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../apps/syncer/src/api-client.ts';
import { createLogger } from '../apps/syncer/src/logger.ts';
import { createKubeSource } from '../apps/syncer/src/sources/kube.ts';
import { createSyncer, type Syncer } from '../apps/syncer/src/syncer.ts';
import { freePort } from './support/free-port.ts';
import { type KubeApiDouble, type KubeObject, startKubeApi } from './support/kube-api.ts';
import { type Api, startApi } from './support/processes.ts';
import { createTempDirs } from './support/temp-dirs.ts';
import { waitFor } from './support/wait.ts';

const OURS = 'synthfleet.dev/v1/synthetictests';
const THEIRS = 'synheart.infra.webex.com/v1/synthetictests';

const temp = createTempDirs();
const tempDir = (prefix: string) => temp.make(prefix);

let api: Api;
beforeAll(async () => {
  api = await startApi({ dataDir: tempDir('synthfleet-syncer-api-') });
});
afterAll(async () => {
  await api?.stop();
  temp.removeAll();
});

const running: { syncer: Syncer; kube: KubeApiDouble }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.syncer.stop();
    await r.kube.close();
  }
});

type Harness = {
  kube: KubeApiDouble;
  syncer: Syncer;
  cluster: string;
  token: string;
  target: Api;
  /** Every call the syncer made to the control plane, as "METHOD path". */
  calls: string[];
};

async function startSyncer(
  opts: {
    resources?: string[];
    target?: Api;
    statusMs?: number;
    namespaces?: string[];
    inactivityTimeoutMs?: number;
    kube?: KubeApiDouble;
    resyncMs?: number;
  } = {},
): Promise<Harness> {
  const target = opts.target ?? api;
  const kube = opts.kube ?? (await startKubeApi({ resources: opts.resources ?? [OURS, THEIRS] }));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kube.writeKubeconfig(tempDir('synthfleet-kubeconfig-')));
  const cluster = `c-${crypto.randomUUID().slice(0, 8)}`;
  const token = await target.clusterToken(cluster);
  const logger = createLogger(process.env.SYNCER_TEST_LOG ?? 'silent');
  const calls: string[] = [];
  const h = { kube, cluster, token, target, calls } as Harness;
  const countingFetch: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    // The target may be replaced by a restarted API on the same port.
    return fetch(String(input).replace(target.url, h.target.url), init);
  };
  const syncer = createSyncer({
    api: createApiClient({ baseUrl: target.url, token, timeoutMs: 5000, fetch: countingFetch }),
    source: createKubeSource({
      kubeConfig,
      groups: ['synthfleet.dev', 'synheart.infra.webex.com'],
      namespaces: opts.namespaces ?? [],
      logger,
      recheckMs: 60_000,
      inactivityTimeoutMs: opts.inactivityTimeoutMs,
    }),
    logger,
    resyncMs: opts.resyncMs ?? 60_000,
    statusMs: opts.statusMs ?? 60_000,
  });
  syncer.start();
  running.push({ syncer, kube });
  h.syncer = syncer;
  return h;
}

function test(name: string, spec: Record<string, unknown> = {}, namespace = 'default') {
  return {
    metadata: { name, namespace },
    spec: { plugin: 'httpPing', repeat: '30s', node: '*', config: { address: 'http://127.0.0.1:9/' }, ...spec },
  };
}

async function apiTests(h: Harness): Promise<Record<string, { revision: number; apiVersion: string }>> {
  const r = await h.target.call(`/api/v1/tests?cluster=${h.cluster}&limit=500`, { token: h.token });
  expect(r.status).toBe(200);
  const list = TestPage.parse(r.json).tests;
  return Object.fromEntries(
    list.map((t) => [`${t.namespace}/${t.name}`, { revision: t.revision, apiVersion: t.apiVersion }]),
  );
}

async function apiTestNames(h: Harness): Promise<string[]> {
  return Object.keys(await apiTests(h)).sort();
}

async function spec(h: Harness, key: string): Promise<Record<string, unknown> | undefined> {
  const r = await h.target.call(`/api/v1/tests/${h.cluster}/${key}`, { token: h.token });
  return r.status === 200 ? (TestDetail.parse(r.json).spec as Record<string, unknown>) : undefined;
}

// Generous bounds: each test waits on real processes, and CI machines stall for seconds.
describe('syncer against a Kubernetes API (test double) and the real API', { timeout: 240_000 }, () => {
  it('mirrors create, update and delete, and does not resend an update that changed no spec', async () => {
    const h = await startSyncer();
    h.kube.apply(OURS, test('web'));
    const t0 = Date.now();
    await waitFor(async () => (await apiTestNames(h)).includes('default/web'));
    const createdMs = Date.now() - t0;

    h.kube.apply(OURS, test('web', { repeat: '1m' }));
    const t1 = Date.now();
    await waitFor(async () => (await spec(h, 'default/web'))?.repeat === '1m');
    const updatedMs = Date.now() - t1;
    expect((await apiTests(h))['default/web']?.revision).toBe(2);

    // A status-only change (what the syncer itself does) keeps the generation: nothing goes up.
    const putsOfWeb = () => h.calls.filter((c) => c.startsWith('PUT') && c.endsWith('/tests/default/web')).length;
    const putsBefore = putsOfWeb();
    const object = h.kube.get(OURS, 'default', 'web') as KubeObject;
    await fetch(`${h.kube.url}/apis/synthfleet.dev/v1/namespaces/default/synthetictests/web/status`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${h.kube.token}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ status: { phase: 'Pending' } }),
    });
    expect(h.kube.get(OURS, 'default', 'web')?.metadata.generation).toBe(object.metadata.generation);
    await waitFor(() => h.kube.requests().some((r) => r.path.includes('watch=true')));
    await h.syncer.idle();
    expect(putsOfWeb()).toBe(putsBefore);
    expect((await apiTests(h))['default/web']?.revision).toBe(2);

    h.kube.remove(OURS, 'default', 'web');
    const t2 = Date.now();
    await waitFor(async () => !(await apiTestNames(h)).includes('default/web'));
    const deletedMs = Date.now() - t2;
    process.stdout.write(
      `syncer mirror latency: create ${createdMs} ms, update ${updatedMs} ms, delete ${deletedMs} ms\n`,
    );
  });

  it('relists after a 410 and ends with exactly the cluster’s objects, none lost or doubled', async () => {
    const h = await startSyncer();
    for (const n of ['a', 'b', 'c']) h.kube.apply(OURS, test(n));
    await waitFor(async () => (await apiTestNames(h)).length === 3);
    const listsBefore = h.kube.requests().filter((r) => r.method === 'GET' && !r.path.includes('watch=true')).length;

    // The watch stalls; meanwhile objects change; the history is compacted; the watch drops.
    h.kube.pauseWatches();
    h.kube.remove(OURS, 'default', 'b');
    h.kube.apply(OURS, test('c', { repeat: '2m' }));
    h.kube.apply(OURS, test('d'));
    h.kube.compact();
    h.kube.dropWatches();

    await waitFor(async () => {
      const names = await apiTestNames(h);
      return names.join() === 'default/a,default/c,default/d' && (await spec(h, 'default/c'))?.repeat === '2m';
    });
    const lists = h.kube.requests().filter((r) => r.method === 'GET' && !r.path.includes('watch=true'));
    expect(lists.length).toBeGreaterThan(listsBefore);
    const tests = await apiTests(h);
    expect(tests['default/a']?.revision).toBe(1);
    expect(tests['default/c']?.revision).toBe(2);
    expect(tests['default/d']?.revision).toBe(1);
  });

  it('re-watches from the last version when a stream ends, missing nothing', async () => {
    const h = await startSyncer();
    h.kube.apply(OURS, test('first'));
    await waitFor(async () => (await apiTestNames(h)).includes('default/first'));
    h.kube.dropWatches();
    h.kube.apply(OURS, test('second'));
    await waitFor(async () => (await apiTestNames(h)).includes('default/second'));
    // No 410 and no relist was needed: every watch after the first resumed from a version.
    const watches = h.kube.requests().filter((r) => r.path.includes('watch=true'));
    expect(watches.length).toBeGreaterThan(2);
  });

  it('keeps a quiet watch going without relisting when the client times it out', async () => {
    const h = await startSyncer({ resources: [OURS], inactivityTimeoutMs: 300 });
    h.kube.apply(OURS, test('quiet'));
    await waitFor(async () => (await apiTestNames(h)).includes('default/quiet'));
    const lists = () => h.kube.requests().filter((r) => r.method === 'GET' && !r.path.includes('watch=true')).length;
    const watches = () => h.kube.requests().filter((r) => r.path.includes('watch=true')).length;
    const listsBefore = lists();
    const watchesBefore = watches();
    // Nothing happens for several inactivity periods: the client ends the watch each time.
    await waitFor(() => watches() >= watchesBefore + 3);
    expect(lists()).toBe(listsBefore);
    h.kube.apply(OURS, test('later'));
    await waitFor(async () => (await apiTestNames(h)).includes('default/later'));
    expect(lists()).toBe(listsBefore);
  });

  it('converges after the API was down for a while, losing nothing', async () => {
    const port = await freePort();
    const dataDir = tempDir('synthfleet-syncer-down-');
    const admin = `admin-${crypto.randomUUID()}`;
    let target = await startApi({ dataDir, port, admin });
    const h = await startSyncer({ target });
    for (const n of ['keep', 'change', 'drop']) h.kube.apply(OURS, test(n));
    await waitFor(async () => (await apiTestNames(h)).length === 3);

    await target.stop();
    h.kube.apply(OURS, test('change', { repeat: '5m' }));
    h.kube.remove(OURS, 'default', 'drop');
    h.kube.apply(OURS, test('new'));
    // The syncer keeps trying and queues the work.
    await waitFor(() => h.syncer.health().queued > 0);

    target = await startApi({ dataDir, port, admin });
    h.target = target;
    try {
      await waitFor(
        async () =>
          (await apiTestNames(h)).join() === 'default/change,default/keep,default/new' &&
          (await spec(h, 'default/change'))?.repeat === '5m',
        120_000,
      );
      expect(h.syncer.health().queued).toBe(0);
    } finally {
      await target.stop();
    }
  });

  it('puts an invalid spec into the object’s status; an invalid edit keeps the last valid revision running, marked', async () => {
    const h = await startSyncer({ statusMs: 200, resyncMs: 1000 });
    h.kube.apply(OURS, test('good'));
    h.kube.apply(OURS, test('bad', { plugin: 'teleport', repeat: '10' }));
    await waitFor(async () => (await apiTestNames(h)).includes('default/good'));
    await waitFor(() => h.kube.get(OURS, 'default', 'bad')?.status?.phase === 'Invalid');
    const status = h.kube.get(OURS, 'default', 'bad')?.status as {
      conditions: { type: string; status: string; reason: string; message: string }[];
    };
    expect(status.conditions[0]).toMatchObject({ type: 'Valid', status: 'False', reason: 'InvalidSpec' });
    expect(status.conditions[0]?.message).toMatch(/spec\.plugin: unknown plugin "teleport"/);
    expect(status.conditions[0]?.message).toMatch(/spec\.repeat/);
    expect(await apiTestNames(h)).toEqual(['default/good']);
    // The never-valid object is recorded with its reason, for the dashboard.
    const refused = async () =>
      RejectedList.parse((await h.target.call(`/api/v1/clusters/${h.cluster}/rejected`, { token: h.token })).json)
        .objects;
    await waitFor(async () => (await refused()).some((o) => o.name === 'bad' && o.keptRevision === null));

    // A valid test that turns invalid keeps running at its last valid revision, marked in the API
    // and in its status (naming the field), until it is fixed.
    const before = await h.target.call(`/api/v1/tests/${h.cluster}/default/good`, { token: h.token });
    const revision = TestDetail.parse(before.json).revision;
    h.kube.apply(OURS, test('good', { timeouts: { run: 'soon' } }));
    await waitFor(() => h.kube.get(OURS, 'default', 'good')?.status?.phase === 'Invalid');
    const kept = TestDetail.parse(
      (await h.target.call(`/api/v1/tests/${h.cluster}/default/good`, { token: h.token })).json,
    );
    expect(kept.revision).toBe(revision);
    expect(kept.rejectedEdit?.reason).toMatch(/spec\.timeouts\.run/);
    expect(h.kube.get(OURS, 'default', 'good')?.status?.message).toMatch(
      new RegExp(`spec\\.timeouts\\.run.*the last valid spec \\(revision ${revision}\\) keeps running`),
    );
    // A snapshot (every resync) keeps it too.
    const snapshots = h.syncer.health().snapshots;
    await waitFor(() => h.syncer.health().snapshots > snapshots);
    expect(await apiTestNames(h)).toEqual(['default/good']);
    h.kube.apply(OURS, test('good'));
    await waitFor(async () => {
      const t = TestDetail.parse(
        (await h.target.call(`/api/v1/tests/${h.cluster}/default/good`, { token: h.token })).json,
      );
      return t.rejectedEdit === null;
    });
    // Deleting the broken object removes the test for good.
    h.kube.apply(OURS, test('good', { timeouts: { run: 'soon' } }));
    await waitFor(() => h.kube.get(OURS, 'default', 'good')?.status?.phase === 'Invalid');
    h.kube.remove(OURS, 'default', 'good');
    await waitFor(async () => (await apiTestNames(h)).length === 0);
  });

  it('writes roll-ups back to status, and does not write again while nothing changed', async () => {
    const h = await startSyncer();
    h.kube.apply(OURS, test('web'));
    await waitFor(async () => (await apiTestNames(h)).includes('default/web'));
    const reg = await h.target.call('/api/v1/agents', {
      method: 'POST',
      token: h.token,
      body: { node: 'edge-node-1', version: '1.0.0', capabilities: ['httpPing'] },
    });
    expect(reg.status).toBe(201);
    const agentId = RegisterAgentResponse.parse(reg.json).agentId;
    const now = Date.now();
    const run = (status: 'pass' | 'fail') => ({
      runId: crypto.randomUUID(),
      namespace: 'default',
      name: 'web',
      status,
      marks: status === 'pass' ? 1 : 0,
      maxMarks: 1,
      startTime: new Date(now - 1000).toISOString(),
      endTime: new Date(now - 900).toISOString(),
      details: status === 'pass' ? {} : { _error: 'connection refused' },
    });
    expect(
      (await h.target.call('/api/v1/runs', { method: 'POST', token: h.token, body: { agentId, runs: [run('pass')] } }))
        .status,
    ).toBe(200);

    await h.syncer.writeStatus();
    const status = h.kube.get(OURS, 'default', 'web')?.status;
    expect(status).toMatchObject({
      phase: 'Passing',
      passingAgents: 1,
      failingAgents: 0,
      assignedAgents: 1,
      nodes: ['edge-node-1'],
      observedGeneration: 1,
      conditions: [{ type: 'Valid', status: 'True' }],
    });
    expect(typeof status?.lastRunTime).toBe('string');
    const writes = h.kube.statusWrites();

    // Nothing changed: no write, however many passes run.
    await h.syncer.writeStatus();
    await h.syncer.writeStatus();
    expect(h.kube.statusWrites()).toBe(writes);

    expect(
      (await h.target.call('/api/v1/runs', { method: 'POST', token: h.token, body: { agentId, runs: [run('fail')] } }))
        .status,
    ).toBe(200);
    await h.syncer.writeStatus();
    expect(h.kube.get(OURS, 'default', 'web')?.status).toMatchObject({
      phase: 'Failing',
      failingAgents: 1,
      lastFailureMessage: 'connection refused',
    });
    expect(h.kube.statusWrites()).toBe(writes + 1);
  });

  it('mirrors a synthetic-heart object unchanged, and skips its group where the CRD is missing', async () => {
    const h = await startSyncer();
    const config = 'address: 127.0.0.1:9\nexpectedCodeRegex: ^200$\nretries: 2\n';
    h.kube.apply(THEIRS, {
      metadata: { name: 'legacy', namespace: 'synheart' },
      spec: {
        plugin: 'httpPing',
        repeat: '15s',
        node: 'worker$',
        displayName: 'Legacy ping',
        importance: 'high',
        timeouts: { init: '5s', run: '5s', finish: '5s' },
        pluginRestartPolicy: 'always',
        config,
      },
    });
    await waitFor(async () => (await apiTestNames(h)).includes('synheart/legacy'));
    expect((await apiTests(h))['synheart/legacy']?.apiVersion).toBe('synheart.infra.webex.com/v1');
    expect(await spec(h, 'synheart/legacy')).toMatchObject({
      plugin: 'httpPing',
      repeat: '15s',
      node: 'worker$',
      displayName: 'Legacy ping',
      importance: 'high',
      pluginRestartPolicy: 'always',
      config,
    });

    // A cluster without synthetic-heart's CRD: its group is simply empty, ours still works.
    const only = await startSyncer({ resources: [OURS] });
    only.kube.apply(OURS, test('web'));
    await waitFor(async () => (await apiTestNames(only)).includes('default/web'));
    await waitFor(() => only.syncer.health().snapshots > 0);
  });

  it('watches only the namespaces it is given', async () => {
    const h = await startSyncer({ namespaces: ['team-a'] });
    h.kube.apply(OURS, test('mine', {}, 'team-a'));
    h.kube.apply(OURS, test('theirs', {}, 'team-b'));
    await waitFor(async () => (await apiTestNames(h)).includes('team-a/mine'));
    await waitFor(() => h.syncer.health().snapshots > 0);
    expect(await apiTestNames(h)).toEqual(['team-a/mine']);
  });

  it('mirrors what it may read when RBAC forbids one group, and picks that group up once allowed', async () => {
    const kube = await startKubeApi({ resources: [OURS, THEIRS] });
    kube.forbid(THEIRS);
    const h = await startSyncer({ kube });
    h.kube.apply(OURS, test('mine'));
    h.kube.apply(THEIRS, {
      metadata: { name: 'legacy' },
      spec: { plugin: 'dns', repeat: '30s', config: 'domains: [x]' },
    });
    await waitFor(async () => (await apiTestNames(h)).includes('default/mine'));
    await waitFor(() => h.syncer.health().snapshots > 0);
    expect(await apiTestNames(h)).toEqual(['default/mine']);
    h.kube.forbid(THEIRS, false);
    await waitFor(async () => (await apiTestNames(h)).join() === 'default/legacy,default/mine', 60_000);
  });

  it('rides out failing list requests with backoff', async () => {
    const h = await startSyncer({ resources: [OURS] });
    h.kube.apply(OURS, test('web'));
    h.kube.failRequests(3, 503);
    h.kube.dropWatches();
    h.kube.apply(OURS, test('web2'));
    await waitFor(async () => (await apiTestNames(h)).join() === 'default/web,default/web2');
  });
});
