import { RemedyGrant } from '@synthfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweep } from '../services/scheduler.ts';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
beforeEach(async () => {
  api = await createTestApi({ config: { staleResultMs: 5 * 60_000 } });
});
afterEach(() => api.close());

async function page(path: string, cookie?: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (cookie) headers.set('cookie', cookie);
  const res = await api.app.request(path, { ...init, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function signIn(token: string, next = '/'): Promise<string> {
  const r = await api.app.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, next }).toString(),
  });
  expect(r.status).toBe(303);
  const set = r.headers.get('set-cookie') ?? '';
  return set.split(';')[0] as string;
}

/** Data-test keys of the overview's test rows, in page order. */
function rowKeys(html: string): string[] {
  return [...html.matchAll(/<tr data-status="(\w+)" data-test="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}`);
}

async function seedCluster(cluster: string, tests: { name: string; status: 'pass' | 'fail'; importance?: string }[]) {
  const token = await api.token('cluster', cluster);
  const agentId = await api.register(token, `${cluster}-node-1`);
  for (const t of tests) {
    const r = await api.putTest(
      token,
      cluster,
      syntheticTest(t.name, { importance: t.importance as 'high' | undefined, labels: { team: cluster } }),
    );
    expect(r.status).toBe(201);
  }
  const now = api.clock.now();
  const runs = tests.map((t) => runResult(t.name, t.status, now - 1000));
  const posted = await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs } });
  expect(posted.status).toBe(200);
  return { token, agentId };
}

describe('dashboard sign-in', () => {
  it('sends a visitor without a session to the sign-in page, and back where they were after', async () => {
    const r = await page('/clusters/edge-1?x=1');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/login?next=%2Fclusters%2Fedge-1%3Fx%3D1');
    const login = await page('/login?next=%2Fclusters%2Fedge-1');
    expect(login.status).toBe(200);
    expect(login.text).toContain('name="next" value="/clusters/edge-1"');
    expect(login.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('keeps the token in an HttpOnly, SameSite=Strict cookie and never in the URL', async () => {
    const r = await api.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: api.admin, next: '/clusters/x' }).toString(),
    });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/clusters/x');
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^synthfleet_token=/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(r.headers.get('location')).not.toContain(api.admin);
  });

  it('refuses a bad token with a message and only follows next to a path on this site', async () => {
    const bad = await api.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'not-a-real-token-at-all', next: '/' }).toString(),
    });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('That token is not valid');
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const r = await api.app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: api.admin, next }).toString(),
      });
      expect(r.headers.get('location')).toBe('/');
    }
  });

  it('follows next only to a plain same-site path: no tab, CR, LF or backslash tricks, and never a 500', async () => {
    for (const next of [
      '/\t/evil.example',
      '/%09/evil.example'.replace('%09', '\t'),
      '/\r\nset-cookie: x=1',
      '/a\nb',
      '/ok\\evil',
      '/\u00a0/x',
    ]) {
      const r = await api.app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: api.admin, next }).toString(),
      });
      expect(r.status, JSON.stringify(next)).toBe(303);
      expect(r.headers.get('location'), JSON.stringify(next)).toBe('/');
    }
    const fine = await api.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: api.admin,
        next: '/tests/edge-1/default/web?window=24h&agent=a%20b',
      }).toString(),
    });
    expect(fine.headers.get('location')).toBe('/tests/edge-1/default/web?window=24h&agent=a%20b');
    const form = await page('/login?next=%09%2Fevil.example');
    expect(form.text).toContain('name="next" value="/"');
  });

  it('refuses cross-site sign-in and sign-out posts, and takes same-site ones', async () => {
    const viewer = await api.token('viewer');
    const cookie = await signIn(api.admin);
    const post = (path: string, headers: Record<string, string>, body = '') =>
      api.app.request(`http://synthfleet.test${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, host: 'synthfleet.test', ...headers },
        body,
      });
    const login = new URLSearchParams({ token: viewer, next: '/' }).toString();
    const crossSite: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ];
    for (const headers of crossSite) {
      for (const path of ['/login', '/logout']) {
        const r = await post(path, headers, path === '/login' ? login : '');
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        expect(r.headers.get('set-cookie'), `${path} ${JSON.stringify(headers)}`).toBeNull();
        expect(await r.text()).toContain('cross-site request refused');
      }
    }
    // Any other unsafe method on any route, present or future, is refused the same way.
    const put = await api.app.request('http://synthfleet.test/anything', {
      method: 'PUT',
      headers: { origin: 'https://evil.example', host: 'synthfleet.test' },
    });
    expect(put.status).toBe(403);
    // The admin's session is still the admin's.
    expect((await page('/', cookie)).text).toContain('admin token');
    const same = await post('/login', { 'sec-fetch-site': 'same-origin', origin: 'http://synthfleet.test' }, login);
    expect(same.status).toBe(303);
    expect(same.headers.get('set-cookie')).toMatch(/^synthfleet_token=/);
    const sameByOrigin = await post('/logout', { origin: 'http://synthfleet.test' });
    expect(sameByOrigin.status).toBe(303);
  });

  it('signs out, and a revoked token stops working', async () => {
    const cookie = await signIn(api.admin);
    const out = await page('/logout', cookie, { method: 'POST' });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/synthfleet_token=;.*Max-Age=0/);
    const garbage = await page('/', 'synthfleet_token=forged-token-value-123');
    expect(garbage.status).toBe(303);
  });
});

describe('fleet overview', () => {
  it('lists failing tests first across clusters, then the rest, with the nodes they fail on', async () => {
    await seedCluster('alpha', [
      { name: 'a-ok', status: 'pass' },
      { name: 'a-bad', status: 'fail', importance: 'low' },
    ]);
    await seedCluster('beta', [
      { name: 'b-ok', status: 'pass' },
      { name: 'b-bad', status: 'fail', importance: 'critical' },
    ]);
    const cookie = await signIn(api.admin);
    const r = await page('/', cookie);
    expect(r.status).toBe(200);
    // Failing first, and among failing the critical one first, whatever the cluster order.
    expect(rowKeys(r.text)).toEqual([
      'failing:beta/default/b-bad',
      'failing:alpha/default/a-bad',
      'passing:alpha/default/a-ok',
      'passing:beta/default/b-ok',
    ]);
    expect(r.text).toContain('on beta-node-1');
    expect(r.text).toContain('b-bad went fail');
    expect(r.text).toMatch(/data-cluster="alpha"/);
  });

  it('filters by status, cluster, importance, plugin and label from the URL, and names a bad filter', async () => {
    await seedCluster('alpha', [
      { name: 'a-ok', status: 'pass' },
      { name: 'a-bad', status: 'fail', importance: 'low' },
    ]);
    await seedCluster('beta', [{ name: 'b-bad', status: 'fail', importance: 'critical' }]);
    const cookie = await signIn(api.admin);
    expect(rowKeys((await page('/?status=failing&cluster=alpha', cookie)).text)).toEqual([
      'failing:alpha/default/a-bad',
    ]);
    expect(rowKeys((await page('/?importance=critical', cookie)).text)).toEqual(['failing:beta/default/b-bad']);
    expect(rowKeys((await page('/?label=team%3Dbeta', cookie)).text)).toEqual(['failing:beta/default/b-bad']);
    expect(rowKeys((await page('/?plugin=dns', cookie)).text)).toEqual([]);
    // Empty fields (an unchanged form) mean no filter; the form shows what is applied.
    const all = await page('/?cluster=&status=&importance=&plugin=&label=', cookie);
    expect(rowKeys(all.text)).toHaveLength(3);
    expect((await page('/?status=passing', cookie)).text).toContain('<option value="passing" selected>');
    const bad = await page('/?status=sideways', cookie);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('status');
  });

  it('pages the list, problems on the first page, every test once', async () => {
    await seedCluster('alpha', [
      { name: 'a1', status: 'pass' },
      { name: 'a2', status: 'fail' },
      { name: 'a3', status: 'pass' },
    ]);
    await seedCluster('beta', [{ name: 'b1', status: 'pass' }]);
    const cookie = await signIn(api.admin);
    const first = await page('/?limit=2', cookie);
    expect(rowKeys(first.text)[0]).toBe('failing:alpha/default/a2');
    expect(first.text).toContain('1–2 of 4');
    const next = /href="(\/\?[^"]*offset=2[^"]*)"/.exec(first.text)?.[1]?.replace(/&amp;/g, '&') as string;
    const second = await page(next, cookie);
    expect(second.text).toContain('3–4 of 4');
    const all = [...rowKeys(first.text), ...rowKeys(second.text)];
    expect(new Set(all).size).toBe(4);
  });

  it('shows a test with no result for longer than it should as stale, and a silent cluster', async () => {
    await seedCluster('alpha', [{ name: 'a-ok', status: 'pass' }]);
    const cookie = await signIn(api.admin);
    expect(rowKeys((await page('/', cookie)).text)).toEqual(['passing:alpha/default/a-ok']);
    // repeat is 30s; the threshold (5 min) is the larger allowance.
    api.clock.advance(6 * 60_000);
    const r = await page('/', cookie);
    expect(rowKeys(r.text)).toEqual(['stale:alpha/default/a-ok']);
    expect(r.text).toMatch(/no result for <time datetime="[^"]+" data-ago="for">6m/);
    expect(r.text).toContain('Silent clusters');
    expect(rowKeys((await page('/?status=stale', cookie)).text)).toEqual(['stale:alpha/default/a-ok']);
  });

  it('counts stale agents in words that agree with the number', async () => {
    await seedCluster('alpha', [{ name: 'a-ok', status: 'pass' }]);
    const cookie = await signIn(api.admin);
    api.clock.advance(2 * 60_000);
    await sweep(api.ctx);
    const one = (await page('/', cookie)).text;
    expect(one).toContain('<strong>1 stale agent</strong>');
    expect(one).not.toContain('1 stale agents');
    await seedCluster('beta', [{ name: 'b-ok', status: 'pass' }]);
    api.clock.advance(2 * 60_000);
    await sweep(api.ctx);
    expect((await page('/', cookie)).text).toContain('<strong>2 stale agents</strong>');
  });

  it('says the true number of stale agents per cluster, past the list cap, and a silent tile says so', async () => {
    const token = await api.token('cluster', 'edge-013');
    for (let i = 0; i < 105; i++) await api.register(token, `node-${String(i).padStart(3, '0')}`);
    await seedCluster('edge-007', [{ name: 'ok', status: 'pass' }]);
    const cookie = await signIn(api.admin);
    api.clock.advance(2 * 60_000);
    await sweep(api.ctx);
    const text = (await page('/', cookie)).text;
    // 105 + 1 stale, though the table lists the first 100.
    expect(text).toContain('<strong>106 stale agents</strong>');
    expect(text).toMatch(/edge-013<\/a>: 105 of 105, <a href="\/clusters\/edge-007">edge-007<\/a>: 1 of 1/);
    expect(text).toContain('(the first 100 of 106, by cluster and node)');
    // edge-007 has heard nothing for 2 minutes only; after the threshold its tile stops saying "passing".
    api.clock.advance(6 * 60_000);
    const later = (await page('/', cookie)).text;
    const tile = /<section class="tile[^"]*" data-cluster="edge-007"[^>]*>[\s\S]*?<\/section>/.exec(later)?.[0] ?? '';
    expect(tile).toContain('1 test, no news');
    expect(tile).not.toContain('passing');
  });

  it("lists a cluster's stale agents first, filters by state, and pages on without losing one", async () => {
    const token = await api.token('cluster', 'edge-5');
    const ids: string[] = [];
    for (let i = 0; i < 210; i++) ids.push(await api.register(token, `node-${String(i).padStart(3, '0')}`));
    api.clock.advance(2 * 60_000);
    // All but the last three polled again: those three (node-207..209) go stale.
    for (const id of ids.slice(0, 207)) await api.poll(token, id);
    await sweep(api.ctx);
    const cookie = await signIn(api.admin);
    const nodes = (html: string) => [...html.matchAll(/<tr data-node="([^"]+)">/g)].map((m) => m[1]);
    const first = (await page('/clusters/edge-5', cookie)).text;
    expect(nodes(first).slice(0, 4)).toEqual(['node-207', 'node-208', 'node-209', 'node-000']);
    expect(nodes(first)).toHaveLength(200);
    const next = /href="(\/clusters\/edge-5\?after=[^"#]+)/.exec(first)?.[1]?.replace(/&amp;/g, '&');
    const second = (await page(next as string, cookie)).text;
    expect(nodes(second)).toHaveLength(10);
    expect(new Set([...nodes(first), ...nodes(second)]).size).toBe(210);
    const stale = (await page('/clusters/edge-5?agents=stale', cookie)).text;
    expect(nodes(stale)).toEqual(['node-207', 'node-208', 'node-209']);
    expect(stale).toContain('<strong aria-current="true">3 stale</strong>');
  });

  it("marks a stale agent's cell in the node grid: its green is old news", async () => {
    const token = await api.token('cluster', 'edge-6');
    const a = await api.register(token, 'node-a');
    const b = await api.register(token, 'node-b');
    await api.putTest(token, 'edge-6', syntheticTest('web'));
    const now = api.clock.now();
    for (const id of [a, b])
      await api.request('POST', '/api/v1/runs', {
        token,
        body: { agentId: id, runs: [runResult('web', 'pass', now)] },
      });
    api.clock.advance(2 * 60_000);
    await api.poll(token, a);
    await sweep(api.ctx);
    const cookie = await signIn(api.admin);
    const text = (await page('/tests/edge-6/default/web', cookie)).text;
    expect(text).toContain('class="cell s-pass stale"');
    expect(text).toMatch(/aria-label="node-b: stale agent, last result pass"/);
    expect(text).toMatch(/aria-label="node-a: pass"/);
    const detail = await api.request('GET', '/api/v1/tests/edge-6/default/web', { token });
    expect((detail.body as { agents: { node: string; agentState: string }[] }).agents.map((x) => x.agentState)).toEqual(
      ['live', 'stale'],
    );
  });

  it('opens with incidents: the widest failure first, look-alikes collapsed, silent clusters and stale agents counted', async () => {
    const now = api.clock.now();
    /** A cluster with `nodes` agents running one test, failing on the first `failing` of them. */
    async function cluster(
      name: string,
      test: string,
      nodes: number,
      failing: number,
      importance: 'critical' | 'high' | 'medium' | 'low' = 'high',
    ) {
      const token = await api.token('cluster', name);
      const ids: string[] = [];
      for (let i = 0; i < nodes; i++) ids.push(await api.register(token, `${name}-n${i}`));
      await api.putTest(token, name, syntheticTest(test, { importance }));
      for (const [i, id] of ids.entries())
        await api.request('POST', '/api/v1/runs', {
          token,
          body: { agentId: id, runs: [runResult(test, i < failing ? 'fail' : 'pass', now - 1000)] },
        });
      return { token, ids };
    }
    await cluster('edge-dns', 'dns', 10, 9, 'medium');
    for (const c of ['edge-a', 'edge-b', 'edge-c', 'edge-d']) await cluster(c, 'api-health', 4, 1, 'critical');
    await cluster('edge-quiet', 'ping', 2, 0);
    const cookie = await signIn(api.admin);
    let text = (await page('/', cookie)).text;
    const incidents = () =>
      [...text.matchAll(/<li data-incident="([^"]+)" data-kind="(\w+)"/g)].map((m) => `${m[2]}:${m[1]}`);
    // 9 nodes of one cluster outrank 4 nodes (1 in each of 4 clusters), though those are critical.
    expect(incidents()).toEqual(['test:default/dns', 'test:default/api-health']);
    expect(text).toContain('9 of 10 nodes in edge-dns (90 % of it; 32 % of the fleet)');
    expect(text).toContain('1 node each in 4 clusters (4 of 16 nodes; 14 % of the fleet)');
    // The incidents come before the clusters and the tests.
    expect(text.indexOf('id="incidents"')).toBeLessThan(text.indexOf('<h2 id="clusters">'));
    // Later: edge-quiet's agents stop (stale), and nothing is heard from it past the threshold;
    // in edge-part one node of three stops.
    const part = await cluster('edge-part', 'web', 3, 0);
    api.clock.advance(6 * 60_000);
    await api.request('POST', '/api/v1/runs', {
      token: part.token,
      body: { agentId: part.ids[0], runs: [runResult('web', 'pass', api.clock.now() - 1000)] },
    });
    for (const id of part.ids.slice(0, 2)) await api.poll(part.token, id);
    // The other clusters' agents keep polling (live); edge-quiet's do not.
    for (const c of ['edge-dns', 'edge-a', 'edge-b', 'edge-c', 'edge-d']) {
      const t = await api.token('cluster', c);
      const list = (await api.request('GET', `/api/v1/clusters/${c}/agents`, { token: t })).body as {
        agents: { agentId: string }[];
      };
      for (const a of list.agents) await api.poll(t, a.agentId);
    }
    await sweep(api.ctx);
    text = (await page('/', cookie)).text;
    expect(incidents()).toContain('silent:edge-quiet');
    expect(text).toContain('silent: 2 agents, no result within the threshold');
    expect(incidents()).toContain('stale:edge-part');
    expect(text).toContain('1 of 3 agents stale (33 % of it)');
  });

  it('escapes whatever tests and probes report', async () => {
    const token = await api.token('cluster', 'alpha');
    const agentId = await api.register(token, 'n1');
    await api.putTest(token, 'alpha', syntheticTest('xss', { displayName: '<script>alert(1)</script>' }));
    const run = runResult('xss', 'fail', api.clock.now() - 100, {
      details: { _log: '<img src=x onerror=alert(2)>', _error: '</pre><script>alert(3)</script>' },
    });
    await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs: [run] } });
    const cookie = await signIn(api.admin);
    const overview = await page('/', cookie);
    expect(overview.text).not.toContain('<script>alert');
    expect(overview.text).toContain('&lt;script&gt;alert(1)');
    const detail = await page(`/tests/alpha/default/xss/runs/${run.runId}`, cookie);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(detail.text).not.toContain('<script>alert(3)');
  });
});

describe('cluster scoping', () => {
  it('shows a cluster token its own cluster only; other clusters are not found', async () => {
    const { token } = await seedCluster('alpha', [{ name: 'a-bad', status: 'fail' }]);
    const beta = await seedCluster('beta', [{ name: 'b-bad', status: 'fail' }]);
    const cookie = await signIn(token);
    const r = await page('/', cookie);
    expect(rowKeys(r.text)).toEqual(['failing:alpha/default/a-bad']);
    expect(r.text).not.toContain('beta');
    expect((await page('/?cluster=beta', cookie)).text).not.toContain('b-bad');
    expect((await page('/clusters/beta', cookie)).status).toBe(404);
    expect((await page('/tests/beta/default/b-bad', cookie)).status).toBe(404);
    expect((await page(`/agents/${beta.agentId}`, cookie)).status).toBe(404);
    expect((await page('/clusters/alpha', cookie)).status).toBe(200);
  });
});

describe('pages', () => {
  it('cluster page lists its tests and agents with version, capabilities, last poll and spool', async () => {
    const seeded = await seedCluster('alpha', [{ name: 'a-ok', status: 'pass' }]);
    const cookie = await signIn(api.admin);
    const r = await page('/clusters/alpha', cookie);
    expect(r.status).toBe(200);
    expect(r.text).toContain('data-node="alpha-node-1"');
    expect(r.text).toContain('httpPing, dns, netDial, heartbeat'.split(', ').sort().join(', '));
    expect(r.text).toContain('1.0.0');
    expect(rowKeys(r.text)).toEqual(['passing:alpha/default/a-ok']);
    // Undelivered results, once the agent reports them on a poll.
    expect(r.text).toContain('Undelivered results');
    const { token, agentId } = seeded;
    await api.request('GET', `/api/v1/agents/${agentId}/assignments?spool=12&dropped=3`, { token });
    expect((await page('/clusters/alpha', cookie)).text).toContain('12 (3 dropped)');
    expect((await page(`/agents/${agentId}`, cookie)).text).toContain('12 (3 dropped)');
    expect((await page('/clusters/nope', cookie)).status).toBe(404);
  });

  it('says one as one (1 cluster, 1 agent, 1 run in 1 bucket), shows since when a failure began, and serves an icon', async () => {
    const token = await api.token('cluster', 'solo');
    const agentId = await api.register(token, 'n1');
    await api.putTest(token, 'solo', syntheticTest('web'));
    const at = api.clock.now() - 60_000;
    await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs: [runResult('web', 'fail', at)] } });
    const cookie = await signIn(api.admin);
    const overview = await page('/', cookie);
    expect(overview.text).toMatch(/<p class="summary">1 cluster · /);
    const t = await page('/tests/solo/default/web?window=1h', cookie);
    expect(t.text).toContain('1 run in 1 bucket of 60 s');
    expect(t.text).toMatch(/on 1 of 1 agent: /);
    expect(t.text).toContain('<dt>Assigned to</dt><dd>1 agent: ');
    expect(t.text).toMatch(/\(since <time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ<\/time>\)/);
    expect(overview.text).toContain('<link rel="icon" href="/favicon.svg"');
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const icon = await api.app.request(path);
      expect(icon.status, path).toBe(200);
      expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    }
  });

  it('test page chart: runs spread over time fall into integer buckets (several per bucket, gaps, both edges)', async () => {
    const token = await api.token('cluster', 'spread');
    const agentId = await api.register(token, 'n1');
    await api.putTest(token, 'spread', syntheticTest('web'));
    const to = api.clock.now();
    const from = to - 3_600_000; // 1h window: 60 buckets of exactly 60 s
    const at = (bucket: number, offsetMs: number) => runResult('web', 'pass', from + bucket * 60_000 + offsetMs);
    const runs = [
      at(0, 0), // the window's first instant
      at(5, 1_000),
      at(5, 20_000),
      at(5, 40_000), // three in one bucket
      at(6, 59_000),
      at(20, 0),
      at(20, 30_000), // a gap, then two more in one bucket
      at(59, 59_000), // the last bucket
    ];
    expect((await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs } })).status).toBe(200);
    const r = await page('/tests/spread/default/web?window=1h', await signIn(api.admin));
    expect(r.status).toBe(200);
    expect(Number(/data-points="(\d+)"/.exec(r.text)?.[1])).toBe(5);
  });

  it('test page: per-agent grid, a chart with a point per bucket that has runs, paged runs, run detail', async () => {
    const token = await api.token('cluster', 'alpha');
    const a1 = await api.register(token, 'n1');
    const a2 = await api.register(token, 'n2');
    await api.putTest(token, 'alpha', syntheticTest('web'));
    const now = api.clock.now();
    // 30 runs per agent, one a minute over the last half hour: 1h window → 1-minute buckets.
    const mk = (i: number, fail: boolean) =>
      runResult('web', fail ? 'fail' : 'pass', now - (i + 1) * 60_000 + 5_000, {
        details: { _log: `attempt ${i}` },
      });
    const r1 = Array.from({ length: 30 }, (_, i) => mk(i, false));
    const r2 = Array.from({ length: 30 }, (_, i) => mk(i, i === 0));
    expect((await api.request('POST', '/api/v1/runs', { token, body: { agentId: a1, runs: r1 } })).status).toBe(200);
    expect((await api.request('POST', '/api/v1/runs', { token, body: { agentId: a2, runs: r2 } })).status).toBe(200);
    const cookie = await signIn(api.admin);
    const r = await page('/tests/alpha/default/web?window=1h', cookie);
    expect(r.status).toBe(200);
    expect(r.text.match(/class="cell s-/g)).toHaveLength(2);
    expect(r.text).toContain('class="cell s-fail"');
    const points = Number(/data-points="(\d+)"/.exec(r.text)?.[1]);
    expect(points).toBe(30);
    expect(r.text.match(/<circle class="pt bad"/g)).toHaveLength(1);
    expect(r.text.match(/<tr data-run=/g)).toHaveLength(25);
    // 60 runs, 25 a page: 25, 25, 10, each run once.
    const olderOf = (html: string) => /href="([^"]+cursor=[^"#]+)#runs"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    const seen = [...r.text.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1]);
    let html = r.text;
    for (const size of [25, 10]) {
      const older = olderOf(html);
      expect(older).toBeDefined();
      html = (await page(older as string, cookie)).text;
      const ids = [...html.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1]);
      expect(ids).toHaveLength(size);
      seen.push(...ids);
    }
    expect(olderOf(html)).toBeUndefined();
    expect(new Set(seen).size).toBe(60);
    // One agent's history only.
    const onA1 = await page(`/tests/alpha/default/web?window=1h&agent=${a1}`, cookie);
    expect(onA1.text.match(/<circle class="pt bad"/g)).toBeNull();
    const detail = await page(`/tests/alpha/default/web/runs/${r2[0]?.runId}`, cookie);
    expect(detail.text).toContain('attempt 0');
    expect(detail.text).toContain('n2');
    expect((await page('/tests/alpha/default/web/runs/run-none', cookie)).status).toBe(404);
    expect((await page('/tests/alpha/default/web?window=3y', cookie)).status).toBe(400);
  });

  it('agent page lists the tests it runs and their latest results', async () => {
    const { agentId } = await seedCluster('alpha', [{ name: 'a-bad', status: 'fail' }]);
    const cookie = await signIn(api.admin);
    const r = await page(`/agents/${agentId}`, cookie);
    expect(r.status).toBe(200);
    expect(r.text).toContain('alpha-node-1');
    expect(r.text).toContain('a-bad went fail');
    expect((await page('/agents/nobody', cookie)).status).toBe(404);
  });
});

describe('remedies on the test page', () => {
  it('shows the remedy as configured and its runs, newest first, with their outcome', async () => {
    const token = await api.token('cluster', 'alpha');
    const agentId = await api.register(token, 'alpha-node-1');
    const plain = await api.putTest(token, 'alpha', syntheticTest('plain'));
    expect(plain.status).toBe(201);
    const cookie = await signIn(api.admin);
    expect((await page('/tests/alpha/default/plain', cookie)).text).not.toContain('id="remedies"');
    const remedy = { after: 2, runsLimit: 3, resetInterval: '1h', webhook: { url: 'http://127.0.0.1:9/fix' } };
    expect((await api.putTest(token, 'alpha', syntheticTest('web', { remedy }))).status).toBe(201);
    const none = await page('/tests/alpha/default/web', cookie);
    expect(none.text).toContain('Webhook http://127.0.0.1:9/fix');
    expect(none.text).toContain(
      'after every 2 failed runs in a row on a node · at most 3 runs, counted again 1h after the last',
    );
    expect(none.text).toContain('No remedy has run.');
    const claim = async (runId: string) => {
      const r = await api.request('POST', `/api/v1/agents/${agentId}/remedies`, {
        token,
        body: { namespace: 'default', name: 'web', revision: 1, runId, failures: 2 },
      });
      expect(r.status).toBe(201);
      return RemedyGrant.parse(r.body).remedyId;
    };
    const version = async () => JSON.parse((await page('/ui/version', cookie)).text).version as string;
    const v0 = await version();
    const first = await claim('run-first-1');
    const v1 = await version();
    expect(v1).not.toBe(v0);
    api.clock.advance(30_000);
    await api.request('PUT', `/api/v1/agents/${agentId}/remedies/${first}`, {
      token,
      body: { status: 'failed', message: 'webhook answered <503>' },
    });
    // An outcome shows on open pages too.
    expect(await version()).not.toBe(v1);
    api.clock.advance(60_000);
    const second = await claim('run-second-2');
    const r = await page('/tests/alpha/default/web', cookie);
    const rows = [...r.text.matchAll(/<tr data-remedy="([^"]+)">[\s\S]*?<span class="badge b-(\w+)">/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(rows).toEqual([
      [second, 'running'],
      [first, 'failed'],
    ]);
    expect(r.text).toContain('webhook answered &lt;503&gt;');
    expect(r.text).toContain('2 of 3');
    expect(r.text).toContain('href="/tests/alpha/default/web/runs/run-first-1"');
    expect(r.text).toContain('is recorded as unknown');
  });
});

describe('live updates', () => {
  it('the version changes when a result arrives, and needs a session', async () => {
    const { token, agentId } = await seedCluster('alpha', [{ name: 'a-ok', status: 'pass' }]);
    const cookie = await signIn(api.admin);
    const v1 = JSON.parse((await page('/ui/version', cookie)).text).version;
    expect(JSON.parse((await page('/ui/version', cookie)).text).version).toBe(v1);
    api.clock.advance(1000);
    const run = runResult('a-ok', 'fail', api.clock.now());
    await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs: [run] } });
    const v2 = JSON.parse((await page('/ui/version', cookie)).text).version;
    expect(v2).not.toBe(v1);
    expect((await page('/', cookie)).text).toContain(`data-version="${v2}"`);
    const unsigned = await page('/ui/version');
    expect(unsigned.status).toBe(401);
    expect(JSON.parse(unsigned.text)).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'sign in again', requestId: unsigned.headers.get('x-request-id') },
    });
  });

  it('answers a refetch with just the regions that changed, and 304 when none did', async () => {
    // At the start of a minute, so the relative times below stay inside it.
    api.clock.set(Math.floor(api.clock.now() / 60_000) * 60_000 + 60_000);
    const { token, agentId } = await seedCluster('alpha', [
      { name: 'a-ok', status: 'pass' },
      { name: 'b-ok', status: 'pass' },
    ]);
    const cookie = await signIn(api.admin);
    const held = (text: string) =>
      [...text.matchAll(/data-region="([\w-]+)" data-etag="(\w+)"/g)].map((m) => `${m[1]}=${m[2]}`).join(',');
    const first = (await page('/', cookie)).text;
    const names = [...first.matchAll(/data-region="([\w-]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(
      expect.arrayContaining(['summary', 'incidents', 'clusters', 'heatmap', 'tests', 'stale-agents']),
    );
    // Ten seconds on, every "… ago" has moved, yet nothing else has: 304, no body.
    api.clock.advance(10_000);
    const same = await page('/', cookie, { headers: { 'x-synthfleet-regions': held(first) } });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    expect(same.headers.get('x-synthfleet-version')).toMatch(/.+/);
    // A failure arrives: the regions that show it come back, the unchanged ones do not.
    await api.request('POST', '/api/v1/runs', {
      token,
      body: { agentId, runs: [runResult('b-ok', 'fail', api.clock.now() - 500)] },
    });
    const changed = await page('/', cookie, { headers: { 'x-synthfleet-regions': held(first) } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('x-synthfleet-partial')).toBe('1');
    const back = [...changed.text.matchAll(/data-region="([\w-]+)"/g)].map((m) => m[1]);
    expect(back).toEqual(expect.arrayContaining(['summary', 'incidents', 'tests']));
    expect(back).not.toContain('maintenance');
    expect(back).not.toContain('stale-agents');
    expect(changed.text).not.toContain('<html');
    expect(changed.text).toContain('data-test="alpha/default/b-ok"');
    // Every region it sent is the same as in the whole page at that moment.
    const whole = (await page('/', cookie)).text;
    for (const m of changed.text.matchAll(/<div class="region" data-region="([\w-]+)" data-etag="(\w+)">/g))
      expect(whole).toContain(m[0]);
  });

  it('serves its stylesheet and script from the API, cacheable, and pages load nothing else', async () => {
    const cookie = await signIn(api.admin);
    const html = (await page('/', cookie)).text;
    const css = /href="(\/ui\/app\.\w+\.css)"/.exec(html)?.[1] as string;
    const js = /src="(\/ui\/app\.\w+\.js)"/.exec(html)?.[1] as string;
    expect((await page(css)).headers.get('cache-control')).toContain('immutable');
    expect((await page(js)).status).toBe(200);
    expect(html).not.toMatch(/https?:\/\//);
  });
});

describe('status badges', () => {
  it('answers without a token only for tests that opt in; others need a token or a session', async () => {
    const token = await api.token('cluster', 'edge-1');
    const agentId = await api.register(token, 'node-1');
    await api.putTest(token, 'edge-1', syntheticTest('public-web', { badge: { public: true } }));
    await api.putTest(token, 'edge-1', syntheticTest('private-db'));
    const now = api.clock.now();
    await api.request('POST', '/api/v1/runs', {
      token,
      body: {
        agentId,
        runs: [
          runResult('public-web', 'pass', now - 3000),
          runResult('public-web', 'pass', now - 2000),
          runResult('public-web', 'pass', now - 1000),
          runResult('public-web', 'fail', now),
          runResult('private-db', 'fail', now),
        ],
      },
    });
    const open = await page('/badges/edge-1/default/public-web.svg');
    expect(open.status).toBe(200);
    expect(open.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(open.text).toContain('aria-label="public-web: failing"');
    const avail = await page('/badges/edge-1/default/public-web.svg?show=availability&window=24h');
    expect(avail.text).toContain('aria-label="public-web 24h: 75.0 %"');
    // Private: "not found" without a credential (no leak of its existence), shown with one.
    const hidden = await page('/badges/edge-1/default/private-db.svg');
    expect(hidden.status).toBe(404);
    expect(hidden.text).not.toContain('private-db');
    const unknown = await page('/badges/edge-1/default/nothing.svg');
    expect(unknown.status).toBe(404);
    const withToken = await page('/badges/edge-1/default/private-db.svg', undefined, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(withToken.text).toContain('aria-label="private-db: failing"');
    const otherCluster = await api.token('cluster', 'edge-2');
    const wrong = await page('/badges/edge-1/default/private-db.svg', undefined, {
      headers: { authorization: `Bearer ${otherCluster}` },
    });
    expect(wrong.status).toBe(404);
    const bad = await page('/badges/edge-1/default/x.png');
    expect(bad.status).toBe(400);
  });

  it('are all public with BADGES_PUBLIC', async () => {
    await api.close();
    api = await createTestApi({ config: { badgesPublic: true } });
    const token = await api.token('cluster', 'edge-1');
    await api.putTest(token, 'edge-1', syntheticTest('private-db'));
    const r = await page('/badges/edge-1/default/private-db.svg?show=availability');
    expect(r.status).toBe(200);
    expect(r.text).toContain('private-db 30d: no runs');
  });
});

describe('fleet heatmap', () => {
  it('shades each cluster × test cell by its share failing, folds healthy clusters and links the cells', async () => {
    // edge-a: 2 of 2 nodes fail dns; edge-b: 1 of 2 fails dns; edge-c and edge-d pass everything.
    for (const [cluster, failing] of [
      ['edge-a', 2],
      ['edge-b', 1],
      ['edge-c', 0],
      ['edge-d', 0],
    ] as const) {
      const token = await api.token('cluster', cluster);
      const agents = [await api.register(token, `${cluster}-n1`), await api.register(token, `${cluster}-n2`)];
      for (const name of ['dns', 'web'])
        expect((await api.putTest(token, cluster, syntheticTest(name))).status).toBe(201);
      for (const [i, agentId] of agents.entries()) {
        const runs = [
          runResult('dns', i < failing ? 'fail' : 'pass', api.clock.now() - 1000),
          runResult('web', 'pass', api.clock.now() - 1000),
        ];
        expect((await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs } })).status).toBe(200);
      }
    }
    const cookie = await signIn(api.admin);
    const r = await page('/heatmap', cookie);
    expect(r.status).toBe(200);
    const rows = [...r.text.matchAll(/<tr data-cluster="([\w-]+)"/g)].map((m) => m[1]);
    // Worst first; the healthy two fold into one row.
    expect(rows).toEqual(['edge-a', 'edge-b']);
    expect(r.text).toMatch(/<tr data-healthy="2">/);
    expect(r.text).toContain(
      '<td class="h h-failing q4"><a href="/tests/edge-a/default/dns" title="edge-a · dns: failing, 2 of 2 nodes failing"',
    );
    expect(r.text).toContain('<td class="h h-failing q3"><a href="/tests/edge-b/default/dns"');
    expect(r.text).toContain('<td class="h h-passing"><a href="/tests/edge-a/default/web"');
    // The widest-broken column first.
    expect(r.text.indexOf('<span>dns</span>')).toBeLessThan(r.text.indexOf('<span>web</span>'));
    // Every cluster, by plugin, filtered by name.
    const all = await page('/heatmap?all=1', cookie);
    expect([...all.text.matchAll(/<tr data-cluster="([\w-]+)"/g)].map((m) => m[1])).toEqual([
      'edge-a',
      'edge-b',
      'edge-c',
      'edge-d',
    ]);
    const plugin = await page('/heatmap?by=plugin&q=edge-b', cookie);
    expect([...plugin.text.matchAll(/<tr data-cluster="([\w-]+)"/g)].map((m) => m[1])).toEqual(['edge-b']);
    expect(plugin.text).toContain('title="edge-b · httpPing (2 tests): failing, 1 of 4 nodes failing"');
    expect(plugin.text).toContain('href="/?cluster=edge-b&amp;plugin=httpPing"');
    // Pages of rows.
    const paged = await page('/heatmap?limit=1&offset=1', cookie);
    expect([...paged.text.matchAll(/<tr data-cluster="([\w-]+)"/g)].map((m) => m[1])).toEqual(['edge-b']);
    expect(paged.text).toContain('rows 2–2 of 2');
    // A cluster token sees its own row only; a bad query is a 400 naming the field.
    const own = await page('/heatmap?all=1', await signIn(await api.token('cluster', 'edge-c')));
    expect([...own.text.matchAll(/<tr data-cluster="([\w-]+)"/g)].map((m) => m[1])).toEqual(['edge-c']);
    const bad = await page('/heatmap?by=node', cookie);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('by');
    // The overview carries its first rows; filtered, it leaves them out.
    expect((await page('/', cookie)).text).toContain('<table class="heatmap" data-by="test">');
    expect((await page('/?status=failing', cookie)).text).not.toContain('<table class="heatmap"');
  });

  it("lists an agent's tests failing first, filtered by their latest result", async () => {
    const token = await api.token('cluster', 'edge-a');
    const agentId = await api.register(token, 'node-1');
    for (const name of ['a-pass', 'b-fail', 'c-none']) await api.putTest(token, 'edge-a', syntheticTest(name));
    const runs = [
      runResult('a-pass', 'pass', api.clock.now() - 1000),
      runResult('b-fail', 'fail', api.clock.now() - 1000),
    ];
    await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs } });
    const cookie = await signIn(api.admin);
    const keys = (text: string) =>
      [...text.matchAll(/<tr data-test="([^"]+)" data-latest="(\w+)"/g)].map((m) => `${m[2]}:${m[1]}`);
    expect(keys((await page(`/agents/${agentId}`, cookie)).text)).toEqual([
      'fail:default/b-fail',
      'none:default/c-none',
      'pass:default/a-pass',
    ]);
    expect(keys((await page(`/agents/${agentId}?latest=failing`, cookie)).text)).toEqual(['fail:default/b-fail']);
    expect((await page(`/agents/${agentId}?latest=nope`, cookie)).status).toBe(400);
  });
});
