/**
 * `npm run build:api`: the Node API as it ships, one minified CommonJS file (apps/api/dist/api.cjs)
 * with the database migrations beside it (apps/api/dist/migrations); scripts/bundle.ts says why a
 * bundle and why CommonJS. Only libSQL's native engine stays outside (`require`d from
 * node_modules at run time). Right after start on an empty database the bundle holds about a
 * third of the RSS the TypeScript entry does (`npm run bench -- longpoll` reports it).
 */

import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundleForNode, ROOT_DIR } from './bundle.ts';

export const API_BUNDLE = `${ROOT_DIR}apps/api/dist/api.cjs`;

/**
 * How the API runs where it ships (infra/docker/api.Dockerfile sets exactly these; a test keeps
 * them in step): one malloc arena instead of one per thread and freed malloc memory returned to
 * the system past 128 KiB, as the agent does.
 */
export const API_RUNTIME_ENV = {
  GLIBC_TUNABLES: 'glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=131072',
} as const;

export async function buildApi(outfile = API_BUNDLE): Promise<string> {
  await bundleForNode('apps/api/src/entry/node-main.ts', outfile, ['libsql']);
  const migrations = join(dirname(outfile), 'migrations');
  rmSync(migrations, { recursive: true, force: true });
  cpSync(`${ROOT_DIR}packages/db/migrations`, migrations, { recursive: true });
  return outfile;
}

if (import.meta.main) {
  const out = await buildApi(process.argv[2]);
  process.stdout.write(`built ${out}\n`);
}
