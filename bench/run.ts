/**
 * `npm run bench [-- name …]`: runs benchmarks, prints one table with each figure beside its
 * baseline from the same run, and writes bench/RESULTS.md (with the machine it ran on).
 * Figures from earlier runs of other benchmarks are kept in bench/results.json.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchDashboard, benchMetrics, benchSlo } from './dashboard.ts';
import { benchFleet, benchLive } from './fleet.ts';
import { benchHeartbeat } from './heartbeat.ts';
import { benchIngest } from './ingest.ts';
import { benchLongPoll } from './longpoll.ts';
import { benchLoopback } from './loopback.ts';
import { benchPropagation } from './propagation.ts';
import { type BenchRow, ratio } from './support/result.ts';
import { benchWorker } from './worker.ts';

const BENCHES: Record<string, () => Promise<BenchRow[]>> = {
  dashboard: () => benchDashboard(),
  fleet: () => benchFleet(),
  live: () => benchLive(),
  metrics: () => benchMetrics(),
  slo: () => benchSlo(),
  heartbeat: () => benchHeartbeat(),
  ingest: () => benchIngest(),
  longpoll: () => benchLongPoll(),
  loopback: () => benchLoopback(),
  propagation: () => benchPropagation(),
  worker: () => benchWorker(),
};

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const fmt = (n: number | null) =>
  typeof n !== 'number' || Number.isNaN(n)
    ? '—'
    : n >= 100
      ? Math.round(n).toLocaleString('en-US')
      : n.toFixed(n >= 10 ? 1 : 2);

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

function table(rows: readonly BenchRow[]): string {
  const lines = [
    '| bench | metric | value | baseline | ratio (>1 better) | baseline is | target |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.bench} | ${r.metric} | ${fmt(r.value)} ${r.unit} | ${fmt(r.baseline)} ${Number.isNaN(r.baseline) ? '' : r.unit} | ${Number.isNaN(r.baseline) ? '—' : `${ratio(r).toFixed(2)}×`} | ${r.baselineName}${r.note ? `; ${r.note}` : ''} | ${r.target ?? ''} |`,
    );
  }
  return lines.join('\n');
}

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((a) => !(a in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(BENCHES);
const stored: Record<string, { at: string; rows: BenchRow[] }> = existsSync(here('./results.json'))
  ? JSON.parse(readFileSync(here('./results.json'), 'utf8'))
  : {};
let failed = false;
for (const name of names) {
  process.stdout.write(`running ${name}…\n`);
  try {
    const rows = await (BENCHES[name] as () => Promise<BenchRow[]>)();
    stored[name] = { at: new Date().toISOString(), rows };
    process.stdout.write(`${table(rows)}\n\n`);
  } catch (err) {
    failed = true;
    process.stderr.write(`${name} failed: ${(err as Error).stack}\n`);
  }
}
writeFileSync(here('./results.json'), `${JSON.stringify(stored, null, 2)}\n`);
const all = Object.values(stored).flatMap((s) => s.rows);
const when = Object.entries(stored)
  .map(([k, v]) => `${k}: ${v.at}`)
  .join(', ');
writeFileSync(
  here('./RESULTS.md'),
  `# Benchmark results\n\nMachine: ${machine()}.\nRuns: ${when}.\nProduced by \`npm run bench\`; every figure stands beside a baseline measured in the same run on the same machine. The machines are shared and noisy: read ratios, not absolutes.\n\n${table(all)}\n`,
);
process.stdout.write(`wrote bench/RESULTS.md\n`);
process.exit(failed ? 1 : 0);
