/**
 * `wrangler deploy --dry-run` bundles the Worker offline, as a deploy would upload it: minified,
 * with the Durable Object class exported and the libSQL client's web build (no native module).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createTempDirs } from './support/temp-dirs.ts';

const root = join(import.meta.dirname, '..');
const temp = createTempDirs();
afterAll(() => temp.removeAll());

describe('Worker bundle', () => {
  it('builds offline with wrangler deploy --dry-run', { timeout: 300_000 }, async () => {
    const out = temp.make('synthfleet-worker-bundle-');
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules/.bin/wrangler'),
      ['deploy', '--dry-run', '--outdir', out],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain('--dry-run: exiting now.');
    expect(stdout).toMatch(/env\.CLUSTER_HUB \(ClusterHub\)\s+Durable Object/);
    const file = join(out, 'worker.js');
    expect(existsSync(file)).toBe(true);
    const code = readFileSync(file, 'utf8');
    // Minified: long lines (the newlines left are inside the dashboard's HTML and CSS strings).
    expect(code.length / code.split('\n').length).toBeGreaterThan(500);
    expect(code).toMatch(/export\s*\{[^}]*ClusterHub/);
    // The Hrana HTTP client, not the Node build with its native libsql module.
    expect(code).toContain('v2/pipeline');
    expect(code).not.toMatch(/libsql[\\/-]linux|\.node["']/);
  });
});
