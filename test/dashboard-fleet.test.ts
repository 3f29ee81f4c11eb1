/**
 * The pane of glass over a fleet-sized database, in a real browser: the seeded fleet the
 * dashboard benchmark measures (test/support/seed-fleet.ts: 60 clusters, 5,054 agents, 1,200
 * tests; DNS failing on 990 of 1,000 nodes of one cluster, five DNS tests failing everywhere in
 * another, one test failing on 3 nodes in each of 56 clusters, two clusters silent for 3 h, stale
 * agents) written into the API's `file:` database, the real API (Node entry) on 127.0.0.1 and
 * Debian's headless Chromium. Takes the README's overview and heatmap screenshots with
 * UPDATE_SCREENSHOTS=1 (elsewhere into this run's temp dir).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '@synthfleet/db';
import { migrateDatabase } from '@synthfleet/db/node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser } from './support/browser.ts';
import { type Api, startApi } from './support/processes.ts';
import { ISSUE_FLEET, type SeededFleet, seedFleet } from './support/seed-fleet.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthfleet-dashboard-fleet-'));
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '..', 'docs', 'screenshots')
    : join(dir, 'screenshots');
let api: Api;
let browser: Browser;
let page: Page;
let fleet: SeededFleet;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const handle = await createDatabase({ url: `file:${join(data, 'synthfleet.db')}` });
  await migrateDatabase(handle);
  // Fewer runs than the benchmark's million: the pages read roll-ups, the chart a day of runs.
  fleet = await seedFleet(handle.client, Date.now(), { ...ISSUE_FLEET, runs: 60_000 });
  handle.close();
  api = await startApi({
    dataDir: data,
    // The seeded agents' polls and results stay fresh for the length of the test; the silent
    // clusters (3 h) stay silent.
    env: { AGENT_DEADLINE_SECONDS: '3600', STALE_RESULT_SECONDS: '1800' },
  });
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(`${api.url}/`);
  await page.fill('#token', api.admin);
  await Promise.all([page.waitForURL(`${api.url}/`), page.click('button[type=submit]')]);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const incidents = () =>
  page.$$eval('ol.incidents li', (lis) =>
    lis.map((li) => ({
      key: li.getAttribute('data-incident'),
      kind: li.getAttribute('data-kind'),
      text: li.textContent?.replace(/\s+/g, ' ') ?? '',
    })),
  );

describe('the pane of glass over a seeded fleet, in Chromium', { timeout: 240_000 }, () => {
  it('leads with the widest failure, collapses look-alikes and counts silent clusters and stale agents truly', async () => {
    await page.goto(`${api.url}/`);
    const list = await incidents();
    expect(list[0]?.key).toBe(`${fleet.widest.namespace}/${fleet.widest.name}`);
    expect(list[0]?.text).toContain(
      `${fleet.widest.failing} of ${fleet.widest.assigned} nodes in ${fleet.widest.cluster}`,
    );
    const look = list.find((i) => i.key === `default/${fleet.lookAlike.name}`);
    expect(look?.text).toContain(`3 nodes each in ${fleet.lookAlike.clusters.length} clusters`);
    expect(list.filter((i) => i.key === `default/${fleet.lookAlike.name}`)).toHaveLength(1);
    for (const c of fleet.silent)
      expect(list.find((i) => i.kind === 'silent' && i.key === c)?.text).toContain('silent');
    expect(fleet.staleTotal).toBeGreaterThan(100); // past the old display cap
    expect(await page.getAttribute('[data-stale-total]', 'data-stale-total')).toBe(String(fleet.staleTotal));
    // Tiles tell blast radius apart: 99 % of a cluster failing is the darkest shade and comes first,
    // 3 nodes of 69 the lightest; a silent cluster's tile says it has no news.
    const tiles = await page.$$eval('section.tile', (ts) =>
      ts.map((t) => `${t.getAttribute('data-cluster')} ${t.className}`),
    );
    expect(tiles.find((t) => t.startsWith(`${fleet.widest.cluster} `))).toMatch(/\bq4\b/);
    expect(tiles.find((t) => t.startsWith(`${fleet.lookAlike.clusters[0]} `))).toMatch(/\bq1\b/);
    expect(tiles.findIndex((t) => t.startsWith(`${fleet.widest.cluster} `))).toBeLessThan(
      tiles.findIndex((t) => t.startsWith(`${fleet.lookAlike.clusters[0]} `)),
    );
    expect(await page.textContent(`section.tile[data-cluster="${fleet.silent[0]}"]`)).toContain('no news');
    // Bounded, whatever the fleet.
    const elements = await page.evaluate(() => document.getElementsByTagName('*').length);
    expect(elements).toBeLessThan(5000);
    await page.screenshot({ path: join(SHOTS, 'fleet-overview.png'), fullPage: false });
  });

  it("colours the heatmap's cell of a failing cluster × test by its share failing, and links it to the test", async () => {
    await page.goto(`${api.url}/heatmap`);
    const row = page.locator(`table.heatmap tr[data-cluster="${fleet.widest.cluster}"]`);
    const cell = row.locator(`a[href="/tests/${fleet.widest.cluster}/default/${fleet.widest.name}"]`);
    const td = cell.locator('xpath=..');
    expect(await td.getAttribute('class')).toBe('h h-failing q4');
    // Dark red for 99 %, a passing cell of the same row green.
    const red = await td.evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(red).toBe('rgb(158, 28, 20)');
    const green = await row
      .locator('td.h-passing')
      .first()
      .evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(green).not.toBe(red);
    // Silent and maintenance are drawn apart.
    expect(await page.locator(`tr[data-cluster="${fleet.silent[0]}"] td.h-silent`).count()).toBeGreaterThan(0);
    expect(await page.locator(`tr[data-cluster="${fleet.maintenance.cluster}"] td.h-maintenance`).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'heatmap.png'), fullPage: false });
    await Promise.all([page.waitForURL(/\/tests\//), cell.click()]);
    expect(new URL(page.url()).pathname).toBe(`/tests/${fleet.widest.cluster}/default/${fleet.widest.name}`);
  });

  it('groups the node grid by zone and marks stale agents', async () => {
    const cluster = Object.keys(fleet.stale).find((c) => !fleet.silent.includes(c)) as string;
    await page.goto(`${api.url}/tests/${cluster}/default/${fleet.lookAlike.name}`);
    const groups = await page.$$eval('section.node-group', (s) => s.map((x) => x.getAttribute('data-group')));
    expect(groups.sort()).toEqual(['zone-a', 'zone-b', 'zone-c']);
    expect(await page.locator('.grid .cell.stale').count()).toBe(fleet.stale[cluster]);
    expect(await page.locator('[data-legend]').textContent()).toContain('agent stale');
    // The big cluster's grid stays drawable: 1,000 cells in three groups, failing first in each.
    await page.goto(`${api.url}/tests/${fleet.widest.cluster}/default/${fleet.widest.name}`);
    expect(await page.locator('.grid .cell').count()).toBe(fleet.widest.assigned);
    const firstInGroup = await page.$$eval('section.node-group .grid', (gs) =>
      gs.map((g) => g.firstElementChild?.className),
    );
    expect(firstInGroup.every((c) => c?.startsWith('cell s-fail'))).toBe(true);
    expect(await page.evaluate(() => document.getElementsByTagName('*').length)).toBeLessThan(5000);
  });

  it('puts the first incident above the fold on a phone, with card rows', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${api.url}/`);
    const first = await page.locator('ol.incidents li').first().boundingBox();
    expect(first?.y).toBeLessThan(844 - 40);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(1);
    // The tests table is cards: no header row, the node-naming detail on screen without scrolling sideways.
    expect(await page.locator('table.tests thead').isVisible()).toBe(false);
    const detail = await page.locator('table.tests tr[data-status="failing"] td.c-detail').first().boundingBox();
    expect((detail?.x ?? 999) + (detail?.width ?? 999)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('updates the live regions that changed, never refetching the whole page', async () => {
    await page.goto(`${api.url}/`);
    const token = await api.clusterToken(fleet.clusters[5] as string);
    const requests: { url: string; regions: string | null; status: number; bytes: number; partial: string | null }[] =
      [];
    const onResponse = async (res: import('playwright-core').Response) => {
      const url = new URL(res.url());
      if (url.pathname !== '/') return;
      const body = res.status() === 304 ? '' : await res.text().catch(() => '');
      requests.push({
        url: url.pathname,
        regions: (await res.request().headerValue('x-synthfleet-regions')) ?? null,
        status: res.status(),
        bytes: body.length,
        partial: res.headers()['x-synthfleet-partial'] ?? null,
      });
    };
    page.on('response', onResponse);
    const before = await page.locator('tr[data-test]').count();
    const name = 'dns-1';
    const now = Date.now();
    const r = await api.call('/api/v1/runs', {
      method: 'POST',
      token,
      body: {
        agentId: `${fleet.clusters[5]}-agent-7`,
        runs: [
          {
            runId: `live-${now}`,
            namespace: 'default',
            name,
            status: 'fail',
            marks: 0,
            maxMarks: 1,
            startTime: new Date(now - 500).toISOString(),
            endTime: new Date(now - 400).toISOString(),
            details: { _log: 'failed', _error: 'SERVFAIL from 10.96.0.10' },
          },
        ],
      },
    });
    expect(r.status).toBe(200);
    const row = page.locator(`tr[data-test="${fleet.clusters[5]}/default/${name}"][data-status="failing"]`);
    await row.waitFor({ timeout: 30_000 });
    page.off('response', onResponse);
    expect(await page.locator('tr[data-test]').count()).toBe(before);
    const full = await page.evaluate(() => document.documentElement.outerHTML.length);
    expect(requests.length).toBeGreaterThan(0);
    // Every refetch named the regions it held and got just the changed ones.
    for (const q of requests) {
      expect(q.regions).toMatch(/^summary=\w+,/);
      expect(q.partial).toBe('1');
    }
    const changed = requests.filter((q) => q.status === 200);
    expect(changed.length).toBeGreaterThan(0);
    for (const q of changed) expect(q.bytes).toBeLessThan(full);
  });
});
