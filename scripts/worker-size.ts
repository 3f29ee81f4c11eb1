/**
 * `npm run size:worker`: the Worker bundle's size as a deploy would upload it (wrangler deploy
 * --dry-run, minified per wrangler.toml), printed as JSON: `{"kib": …, "gzipKib": …}`. The README
 * quotes it; test/worker-bundle.test.ts checks the quote against it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export type WorkerBundle = { kib: number; gzipKib: number; output: string };

/** Bundles the Worker into `outdir` (a temp dir, removed after, when not given) and reads its size. */
export function measureWorkerBundle(outdir?: string): WorkerBundle {
  const out = outdir ?? mkdtempSync(join(tmpdir(), 'synthfleet-worker-size-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/wrangler/bin/wrangler.js'),
        'deploy',
        '--dry-run',
        '--outdir',
        out,
        '--config',
        join(root, 'wrangler.toml'),
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
    );
    const output = `${r.stdout}\n${r.stderr}`;
    const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
    if (r.status !== 0 || !m) throw new Error(`wrangler deploy --dry-run failed (exit ${r.status}):\n${output}`);
    return { kib: Number(m[1]), gzipKib: Number(m[2]), output };
  } finally {
    if (!outdir) rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { kib, gzipKib } = measureWorkerBundle();
  process.stdout.write(`${JSON.stringify({ kib, gzipKib })}\n`);
}
