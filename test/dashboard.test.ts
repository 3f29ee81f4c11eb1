/**
 * The dashboard in a real browser: the real API (Node entry, temp libSQL file) on 127.0.0.1,
 * seeded over HTTP the way agents and syncers write, and Debian's headless Chromium driving it.
 * Takes the screenshots the README links to: into docs/screenshots with UPDATE_SCREENSHOTS=1,
 * elsewhere into this run's temp dir (so `npm test` leaves the checkout as it found it).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegisterAgentResponse, RemedyGrant } from '@synthfleet/contracts';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser } from './support/browser.ts';
import { type Api, startApi } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthfleet-dashboard-'));
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '..', 'docs', 'screenshots')
    : join(dir, 'screenshots');
let api: Api;
let browser: Browser;
let page: Page;
const tokens = new Map<string, string>();
const agentIds = new Map<string, string[]>();

type Seed = {
  name: string;
  plugin: string;
  importance: string;
  failingOn: number[];
  displayName: string;
  remedy?: Record<string, unknown>;
  slo?: Record<string, unknown>;
};
const CLUSTERS: Record<string, Seed[]> = {
  'edge-berlin': [
    {
      name: 'checkout',
      plugin: 'httpPing',
      importance: 'critical',
      failingOn: [1],
      displayName: 'Checkout API',
      slo: { objective: 99.9, window: '30d' },
    },
    { name: 'dns-internal', plugin: 'dns', importance: 'medium', failingOn: [], displayName: 'Internal DNS' },
  ],
  'edge-tokyo': [
    {
      name: 'payments',
      plugin: 'httpPing',
      importance: 'high',
      failingOn: [0, 2],
      displayName: 'Payments gateway',
      remedy: { after: 3, runsLimit: 2, webhook: { url: 'http://127.0.0.1:9/restart-payments' } },
    },
    { name: 'mesh', plugin: 'heartbeat', importance: 'low', failingOn: [], displayName: 'Node mesh' },
  ],
  'edge-austin': [
    { name: 'storefront', plugin: 'httpPing', importance: 'high', failingOn: [], displayName: 'Storefront' },
    { name: 'db-port', plugin: 'netDial', importance: 'medium', failingOn: [], displayName: 'Database port' },
  ],
};

function run(name: string, ok: boolean, at: number, ms: number) {
  return {
    runId: crypto.randomUUID(),
    namespace: 'default',
    name,
    status: ok ? 'pass' : 'fail',
    marks: ok ? 1 : 0,
    maxMarks: 1,
    startTime: new Date(at).toISOString(),
    endTime: new Date(at + ms).toISOString(),
    details: ok
      ? { _log: `GET ok in ${ms} ms` }
      : { _log: `GET: status 503 in ${ms} ms`, _error: 'status 503 does not match 2..' },
  };
}

async function post(cluster: string, agentId: string, runs: unknown[]) {
  const r = await api.call('/api/v1/runs', { method: 'POST', token: tokens.get(cluster), body: { agentId, runs } });
  if (r.status !== 200) throw new Error(`runs: ${r.status} ${JSON.stringify(r.json)}`);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The seeded agents never poll; the longest deadline keeps them live (and their tests assigned)
  // however long the browser takes on a loaded machine. Staleness is tested in reads.test.ts.
  api = await startApi({ dataDir: join(dir, 'api'), env: { AGENT_DEADLINE_SECONDS: '3600' } });
  const now = Date.now();
  for (const [cluster, tests] of Object.entries(CLUSTERS)) {
    const token = await api.clusterToken(cluster);
    tokens.set(cluster, token);
    const ids: string[] = [];
    for (const node of ['node-1', 'node-2', 'node-3']) {
      const r = await api.call('/api/v1/agents', {
        method: 'POST',
        token,
        body: {
          node: `${cluster}-${node}`,
          version: '0.1.0',
          capabilities: ['httpPing', 'dns', 'netDial', 'heartbeat'],
        },
      });
      if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.json)}`);
      ids.push(RegisterAgentResponse.parse(r.json).agentId);
    }
    agentIds.set(cluster, ids);
    for (const t of tests) {
      const r = await api.call(`/api/v1/clusters/${cluster}/tests/default/${t.name}`, {
        method: 'PUT',
        token,
        body: {
          apiVersion: 'synthfleet.dev/v1',
          kind: 'SyntheticTest',
          metadata: { name: t.name, namespace: 'default' },
          spec: {
            plugin: t.plugin,
            repeat: '1m',
            node: '*',
            importance: t.importance,
            displayName: t.displayName,
            labels: { team: cluster.slice(5) },
            config: t.plugin === 'heartbeat' ? { sizes: [1024] } : { address: '127.0.0.1:9' },
            ...(t.remedy ? { remedy: t.remedy } : {}),
            ...(t.slo ? { slo: t.slo } : {}),
          },
        },
      });
      if (r.status !== 201) throw new Error(`put: ${r.status} ${JSON.stringify(r.json)}`);
    }
    // Half an hour of history, a run a minute per agent; the failing agents fail for the last 5.
    for (const [i, agentId] of ids.entries()) {
      const runs = tests.flatMap((t) =>
        Array.from({ length: 30 }, (_, k) => {
          const at = now - (30 - k) * 60_000 + 1000;
          const failing = t.failingOn.includes(i) && k >= 25;
          return run(t.name, !failing, at, 20 + ((k * 7 + i * 13) % 40));
        }),
      );
      await post(cluster, agentId, runs);
      // Each failing agent of a test with a remedy claimed a run of it on its last failure.
      for (const t of tests.filter((x) => x.remedy && x.failingOn.includes(i))) {
        const trigger = runs.filter((r) => r.name === t.name && r.status === 'fail').at(-1);
        const claim = await api.call(`/api/v1/agents/${agentId}/remedies`, {
          method: 'POST',
          token,
          body: { namespace: 'default', name: t.name, revision: 1, runId: trigger?.runId, failures: 3 },
        });
        if (claim.status !== 201) throw new Error(`remedy: ${claim.status} ${JSON.stringify(claim.json)}`);
        // The first agent's remedy ran; the other's is still under way.
        if (i === 0) {
          const { remedyId } = RemedyGrant.parse(claim.json);
          await api.call(`/api/v1/agents/${agentId}/remedies/${remedyId}`, {
            method: 'PUT',
            token,
            body: { status: 'succeeded', message: 'webhook answered 204', details: { status: '204' } },
          });
        }
      }
    }
  }
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(token: string) {
  await browser.context.clearCookies();
  await page.goto(`${api.url}/`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${api.url}/`), page.click('button[type=submit]')]);
}

const rows = () =>
  page.$$eval('tr[data-test]', (trs) =>
    trs.map((tr) => `${tr.getAttribute('data-status')}:${tr.getAttribute('data-test')}`),
  );

describe('dashboard in Chromium', { timeout: 240_000 }, () => {
  it('signs in and lists failing tests first across the clusters', async () => {
    await signIn(api.admin);
    const cookies = await browser.context.cookies();
    expect(cookies.find((c) => c.name === 'synthfleet_token')?.httpOnly).toBe(true);
    expect(page.url()).not.toContain(api.admin);
    const list = await rows();
    expect(list.slice(0, 2)).toEqual(['failing:edge-berlin/default/checkout', 'failing:edge-tokyo/default/payments']);
    expect(list.slice(2).every((r) => r.startsWith('passing:'))).toBe(true);
    expect(list).toHaveLength(6);
    expect(await page.textContent('tr[data-test="edge-tokyo/default/payments"]')).toContain('edge-tokyo-node-1');
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
  });

  it('narrows the list with a filter that lives in the URL and survives a reload', async () => {
    await page.selectOption('select[name=importance]', 'high');
    await Promise.all([page.waitForURL(/importance=high/), page.click('form.filters button[type=submit]')]);
    const filtered = await rows();
    expect(filtered).toEqual(['failing:edge-tokyo/default/payments', 'passing:edge-austin/default/storefront']);
    await page.reload();
    expect(await rows()).toEqual(filtered);
    expect(await page.inputValue('select[name=importance]')).toBe('high');
    await page.goto(`${api.url}/?status=failing&cluster=edge-berlin`);
    expect(await rows()).toEqual(['failing:edge-berlin/default/checkout']);
  });

  it('shows a new failing result on the open page without a reload', async () => {
    await page.goto(`${api.url}/`);
    await page.evaluate(() => {
      (window as unknown as { untouched: boolean }).untouched = true;
    });
    expect(await rows()).toContain('passing:edge-austin/default/storefront');
    const [agent] = agentIds.get('edge-austin') ?? [];
    await post('edge-austin', agent as string, [run('storefront', false, Date.now() - 500, 31)]);
    const failingRow = 'tr[data-test="edge-austin/default/storefront"][data-status="failing"]';
    try {
      await page.waitForSelector(failingRow, { timeout: 120_000 });
    } catch (err) {
      // Say what the page's live loop last reported and what the server answers now.
      const live = await page.textContent('#live-state').catch(() => null);
      const version = await page.evaluate(() => document.body.dataset.version);
      const now = await api.call('/api/v1/tests/edge-austin/default/storefront');
      (err as Error).message +=
        `\nlive state: ${live}; page version ${version}; test now: ${JSON.stringify(now.json).slice(0, 300)}`;
      throw err;
    }
    expect(await page.evaluate(() => (window as unknown as { untouched?: boolean }).untouched)).toBe(true);
    expect((await rows()).slice(0, 3)).toContain('failing:edge-austin/default/storefront');
  });

  it("renders the test page's chart with data points, the node grid and a run's log", async () => {
    await page.goto(`${api.url}/tests/edge-tokyo/default/payments?window=1h`);
    const points = await page.locator('svg.chart circle.pt').count();
    expect(points).toBeGreaterThanOrEqual(25);
    expect(await page.locator('svg.chart circle.pt.bad').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('svg.chart polyline.lat').count()).toBe(1);
    expect(await page.locator('.grid .cell').count()).toBe(3);
    expect(await page.locator('.grid .cell.s-fail').count()).toBe(2);
    const remedies = await page.$$eval('table.remedies tbody tr', (trs) =>
      trs.map((tr) => tr.querySelector('.badge')?.textContent),
    );
    expect(remedies).toEqual(['running', 'succeeded']);
    expect(await page.textContent('#remedies + p')).toContain('Webhook http://127.0.0.1:9/restart-payments');
    await page.screenshot({ path: join(SHOTS, 'test-page.png'), fullPage: true });
    // A remedy's streak links to the failing run that triggered it.
    await page.click('table.remedies tbody tr:last-child td:nth-child(5) a');
    await page.waitForSelector('pre.run-error');
    expect(await page.textContent('pre.run-error')).toContain('status 503');
    await page.goBack();
    await page.click('table.runs tbody tr:first-child a');
    await page.waitForSelector('pre.run-log');
    expect(await page.textContent('h1')).toContain('Payments gateway');
  });

  it('is readable on a phone and reachable by keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${api.url}/`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    // Incidents first: the widest one is on the first screen.
    const first = await page.locator('ol.incidents li').first().boundingBox();
    expect(first?.y).toBeLessThan(844 - 40);
    expect(await page.locator('ol.incidents li').first().getAttribute('data-incident')).toBe('default/payments');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('draws one chart point per non-empty bucket (runs a minute apart are not one bucket each)', async () => {
    await page.goto(`${api.url}/tests/edge-tokyo/default/payments?window=1h`);
    // 3 agents × 30 runs a minute apart, 1-minute buckets: 30 buckets of 3 runs.
    expect(await page.locator('svg.chart circle.pt').count()).toBe(30);
    expect(await page.getAttribute('svg.chart', 'data-points')).toBe('30');
    expect(await page.textContent('#chart-desc')).toMatch(/^90 runs in 30 buckets of 60 s/);
    // The node grid says what its colours mean.
    expect(await page.textContent('[data-legend]')).toContain('failed');
  });

  it('shows the SLO panel: availability over its window, the budget left and the burn rates', async () => {
    await page.goto(`${api.url}/tests/edge-berlin/default/checkout`);
    const panel = page.locator('section[data-slo]');
    expect(await panel.textContent()).toContain('SLO: 99.9 % over 30d');
    // 5 of 90 runs failed against a budget of 0.1 %: spent many times over.
    expect(await panel.getAttribute('data-slo')).toBe('exhausted');
    expect(await page.textContent('[data-budget]')).toMatch(/exhausted/);
    expect(await page.textContent('table.availability td[data-window="30d"]')).toContain('85 / 90');
    await page.screenshot({ path: join(SHOTS, 'slo.png'), fullPage: false });
  });

  it('runs a test now from its page and shows the manual result as it arrives', async () => {
    await page.goto(`${api.url}/tests/edge-austin/default/db-port`);
    await Promise.all([page.waitForURL(/ran=3/), page.click('button[data-run-now]')]);
    expect(await page.textContent('[data-notice="run-now"]')).toContain('Asked 3 agents to run it now');
    const detail = await api.call('/api/v1/tests/edge-austin/default/db-port');
    expect((detail.json as { runRequest: { id: string } | null }).runRequest).not.toBeNull();
    // Asked again at once: refused politely, with when to ask again.
    await page.goto(`${api.url}/tests/edge-austin/default/db-port`);
    await Promise.all([page.waitForURL(/wait=\d+/), page.click('button[data-run-now]')]);
    expect(await page.textContent('[data-notice="run-now"]')).toMatch(/ask again in \d+ s/);
    // An agent's manual run appears on the open page without a reload.
    const [agent] = agentIds.get('edge-austin') ?? [];
    await post('edge-austin', agent as string, [
      { ...run('db-port', true, Date.now() - 200, 12), trigger: { type: 'manual' } },
    ]);
    await page.waitForSelector('table.runs tr[data-manual]', { timeout: 120_000 });
    // A form posted from another site is refused.
    const cookie = (await browser.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const cross = await fetch(`${api.url}/tests/edge-austin/default/db-port/run`, {
      method: 'POST',
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
      redirect: 'manual',
    });
    expect(cross.status).toBe(403);
  });

  it('shows an open maintenance window on the overview and the test as in maintenance', async () => {
    const r = await api.call('/api/v1/maintenance', {
      method: 'POST',
      token: tokens.get('edge-tokyo'),
      body: {
        name: 'payments',
        reason: 'payment provider migration',
        start: new Date(Date.now() - 60_000).toISOString(),
        end: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(r.status).toBe(201);
    await page.goto(`${api.url}/`);
    const item = page.locator('li[data-maintenance-window][data-active="true"]');
    expect(await item.textContent()).toContain('payment provider migration');
    expect(await rows()).toContain('maintenance:edge-tokyo/default/payments');
    await page.screenshot({ path: join(SHOTS, 'maintenance.png'), fullPage: false });
    await page.goto(`${api.url}/tests/edge-tokyo/default/payments`);
    expect(await page.textContent('[data-maintenance-notice]')).toContain('payment provider migration');
  });

  it('marks an invalid edit: the last valid revision keeps running and the reason names the field', async () => {
    const bad = await api.call('/api/v1/clusters/edge-austin/tests/default/storefront?source=kubernetes', {
      method: 'PUT',
      token: tokens.get('edge-austin'),
      body: {
        apiVersion: 'synthfleet.dev/v1',
        kind: 'SyntheticTest',
        metadata: { name: 'storefront', namespace: 'default' },
        spec: { plugin: 'httpPing', repeat: '15 s', node: '*', importance: 'high', config: { address: '127.0.0.1:9' } },
      },
    });
    expect(bad.status).toBe(400);
    await page.goto(`${api.url}/tests/edge-austin/default/storefront`);
    expect(await page.textContent('[data-rejected-edit]')).toMatch(
      /spec\.repeat.*Revision 1, the last valid spec, keeps running/s,
    );
    await page.goto(`${api.url}/`);
    expect(await page.textContent('tr[data-rejected="edge-austin/default/storefront"]')).toContain(
      'revision 1 (the last valid spec) keeps running',
    );
    expect(await page.locator('tr[data-test="edge-austin/default/storefront"] [data-rejected-edit]').count()).toBe(1);
  });

  it("keeps a cluster token to its own cluster: other clusters' tests are not found", async () => {
    await signIn(tokens.get('edge-berlin') as string);
    const list = await rows();
    expect(list.length).toBe(2);
    expect(list.every((r) => r.includes(':edge-berlin/'))).toBe(true);
    const other = await page.goto(`${api.url}/tests/edge-tokyo/default/payments`);
    expect(other?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('Not found');
    expect(await page.content()).not.toContain('Payments gateway');
  });
});
