import { html } from 'hono/html';
import type { HistoryPoint } from '../services/dashboard/index.ts';
import type { Html } from './layout.ts';

/**
 * Latency and pass ratio over time as inline SVG, drawn on the server. Why not a charting library:
 * the page must work air-gapped and under a CSP that allows no inline script, a chart of 60
 * buckets needs no interaction beyond hover titles, and SVG from the server costs no bundle,
 * renders the same on Workers and Node, and can be checked in tests by counting its points.
 */
const W = 900;
const H = 240;
const PAD = { left: 56, right: 48, top: 14, bottom: 28 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function clock(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return spanMs > 36 * 3_600_000 ? `${d.getUTCMonth() + 1}/${d.getUTCDate()} ${hm}` : hm;
}

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
}

export function historyChart(opts: { from: number; to: number; bucketMs: number; points: HistoryPoint[] }): Html {
  const { from, to, bucketMs, points } = opts;
  const span = to - from;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const yMax = niceMax(Math.max(0, ...points.map((p) => p.avgMs)));
  const x = (at: number) => PAD.left + ((at + bucketMs / 2 - from) / span) * innerW;
  const yLat = (v: number) => PAD.top + innerH - (v / yMax) * innerH;
  const yRatio = (r: number) => PAD.top + innerH - r * innerH;
  const lat = points.map((p) => `${x(p.at).toFixed(1)},${yLat(p.avgMs).toFixed(1)}`).join(' ');
  const ratio = points.map((p) => `${x(p.at).toFixed(1)},${yRatio(p.passRatio).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const timeTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => from + f * span);
  const total = points.reduce((n, p) => n + p.runs, 0);
  const failed = points.reduce((n, p) => n + p.failed, 0);
  const summary =
    points.length === 0
      ? 'No runs in this window.'
      : `${total} ${total === 1 ? 'run' : 'runs'} in ${points.length} ${points.length === 1 ? 'bucket' : 'buckets'} of ${Math.round(bucketMs / 1000)} s; ${failed} not passing.`;
  return html`<figure>
<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" data-points="${points.length}">
<title id="chart-title">Average latency (solid, left axis) and pass ratio (dashed, right axis)</title>
<desc id="chart-desc">${summary}</desc>
${ticks.map(
  (f) => html`<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${yRatio(f)}" y2="${yRatio(f)}"></line>
<text x="${PAD.left - 6}" y="${yRatio(f) + 4}" text-anchor="end">${ms(f * yMax)}</text>
<text x="${W - PAD.right + 6}" y="${yRatio(f) + 4}">${Math.round(f * 100)}%</text>`,
)}
${timeTicks.map(
  (t, i) =>
    html`<text x="${PAD.left + (i / 4) * innerW}" y="${H - 8}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">${clock(t, span)}</text>`,
)}
${points.length > 1 ? html`<polyline class="lat" points="${lat}"></polyline><polyline class="ratio" points="${ratio}"></polyline>` : ''}
${points.map(
  (p) =>
    html`<circle class="pt${p.failed > 0 ? ' bad' : ''}" cx="${x(p.at).toFixed(1)}" cy="${yLat(p.avgMs).toFixed(1)}" r="3.5"><title>${new Date(p.at).toISOString()}: ${p.runs} runs, ${p.failed} not passing, avg ${ms(p.avgMs)}, max ${ms(p.maxMs)}, pass ratio ${(p.passRatio * 100).toFixed(0)}%</title></circle>`,
)}
</svg>
<figcaption class="small muted">${summary} Times in UTC.</figcaption>
</figure>`;
}
