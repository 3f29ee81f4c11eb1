/**
 * The pane of glass at fleet scale: every dashboard page and `GET /api/v1/fleet` over the seeded
 * fleet (test/support/seed-fleet.ts, the scenario the Chromium tests check) at 1,000 clusters,
 * 50,000 agents and 10,000,000 runs in a `file:` database: server time (in process, body read to
 * the end), HTML bytes and elements per page, beside the overview on an empty database in the
 * same run. Also the database's size and one retention sweep over it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweep } from '../apps/api/src/services/scheduler.ts';
import { type FleetScale, seedFleet } from '../test/support/seed-fleet.ts';
import { openApi } from './dashboard.ts';
import type { BenchRow } from './support/result.ts';

export const FLEET_SCALE: FleetScale = {
  clusters: Number(process.env.BENCH_FLEET_CLUSTERS ?? 1_000),
  agents: Number(process.env.BENCH_FLEET_AGENTS ?? 50_000),
  bigClusterNodes: Number(process.env.BENCH_FLEET_BIG_CLUSTER ?? 1_000),
  testsPerCluster: Number(process.env.BENCH_FLEET_TESTS_PER_CLUSTER ?? 20),
  runs: Number(process.env.BENCH_FLEET_RUNS ?? 10_000_000),
};
const ROUNDS = Number(process.env.BENCH_FLEET_ROUNDS ?? 20);
const KIB = 1024;

export async function benchFleet(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-bench-fleet-'));
  const emptyDir = mkdtempSync(join(tmpdir(), 'synthfleet-bench-fleet-empty-'));
  try {
    const full = await openApi(dir);
    const t0 = performance.now();
    const fleet = await seedFleet(full.handle.client, Date.now(), FLEET_SCALE);
    const seedS = (performance.now() - t0) / 1000;
    const dbBytes = statSync(join(dir, 'dash.db')).size;
    const scale = `${fleet.clusters.length.toLocaleString('en-US')} clusters, ${fleet.agents.toLocaleString('en-US')} agents, ${fleet.runs.toLocaleString('en-US')} runs`;
    process.stdout.write(
      `seeded ${scale}, ${fleet.tests.toLocaleString('en-US')} tests in ${seedS.toFixed(0)} s (${(dbBytes / 2 ** 30).toFixed(2)} GiB)\n`,
    );
    const empty = await openApi(emptyDir);
    const base = await empty.measure('/', ROUNDS);
    const typical = fleet.clusters[Math.floor(fleet.clusters.length / 2)] as string;
    const w = fleet.widest;
    const pages: [string, string][] = [
      ['overview', '/'],
      ['overview ?status=failing', '/?status=failing'],
      ['heatmap cluster × test', '/heatmap'],
      ['heatmap cluster × plugin', '/heatmap?by=plugin'],
      [`cluster page (${fleet.nodes[w.cluster]} nodes)`, `/clusters/${w.cluster}`],
      [`cluster page (${fleet.nodes[typical]} nodes)`, `/clusters/${typical}`],
      [`test page (${w.assigned} nodes, ${w.failing} failing)`, `/tests/${w.cluster}/${w.namespace}/${w.name}`],
      ['test page, 24 h chart', `/tests/${typical}/default/api-health?window=24h`],
      ['GET /api/v1/fleet', '/api/v1/fleet'],
    ];
    const rows: BenchRow[] = [];
    const only = process.env.BENCH_FLEET_PAGES ? new RegExp(process.env.BENCH_FLEET_PAGES) : null;
    for (const [label, path] of pages) {
      if (only && !only.test(path)) continue;
      const got = await full.measure(path, ROUNDS);
      const isApi = path.startsWith('/api/');
      const row = (metric: string, value: number, target?: string): BenchRow => ({
        bench: 'fleet',
        metric: `${label}: ${metric} (${scale})`,
        unit: metric.includes('time') ? 'ms' : metric.includes('KiB') ? 'KiB' : 'elements',
        value,
        baseline: metric.includes('time')
          ? metric.includes('p95')
            ? base.p95
            : base.p50
          : metric.includes('KiB')
            ? base.bytes / KIB
            : base.elements,
        baselineName: 'the overview on an empty database',
        higherIsBetter: false,
        ...(target ? { target } : {}),
      });
      rows.push(row('server time p50', got.p50, '≤ 200 ms'), row('server time p95', got.p95, '≤ 500 ms'));
      if (!isApi)
        rows.push(row('HTML KiB', got.bytes / KIB, '≤ 300 KiB'), row('DOM elements', got.elements, '≤ 5,000'));
      process.stdout.write(
        `  ${label}: p50 ${got.p50.toFixed(1)} ms, p95 ${got.p95.toFixed(1)} ms, ${(got.bytes / KIB).toFixed(0)} KiB, ${got.elements} elements\n`,
      );
    }
    // Retention over the whole file: the sweep with a retention that keeps 23 of the 24 hours.
    full.ctx.config.retentionMs = 23 * 3_600_000;
    const s0 = performance.now();
    await sweep(full.ctx);
    const sweepMs = performance.now() - s0;
    const s1 = performance.now();
    await sweep(full.ctx);
    const idleSweepMs = performance.now() - s1;
    rows.push({
      bench: 'fleet',
      metric: `retention sweep deleting the oldest hour of runs (${scale}; ${(dbBytes / 2 ** 30).toFixed(2)} GiB file)`,
      unit: 'ms',
      value: sweepMs,
      baseline: idleSweepMs,
      baselineName: 'the next sweep, with nothing to delete',
      higherIsBetter: false,
    });
    full.handle.close();
    empty.handle.close();
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  }
}
