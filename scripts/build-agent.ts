/**
 * `npm run build:agent`: the agent as it ships, one minified CommonJS file (apps/agent/dist/agent.cjs)
 * with every dependency inside. Plain JavaScript starts without Node's type stripping (which
 * costs ~18 MB of RSS) and without resolving hundreds of files; the container image runs it.
 * CommonJS, not an ES module: Node builds an ES module's view of a builtin such as `node:http` by
 * reading all its exports, which evaluates lazy getters that load undici, http2 and tls, about
 * 13 MB of RSS the agent never uses (a `require` reads nothing it is not asked for).
 */

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
export const ROOT_DIR = root;
export const AGENT_BUNDLE = `${root}apps/agent/dist/agent.cjs`;

/**
 * How the agent runs where it ships (infra/docker/agent.Dockerfile sets exactly these; a test
 * keeps them in step). A node agent mostly idles, so it trades a little GC work for memory: a
 * 1 MiB young generation instead of up to 16 MiB, one malloc arena instead of one per thread,
 * and freed malloc memory returned to the system past 128 KiB. Together about 9 MB of idle RSS.
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1'] as const;
export const AGENT_RUNTIME_ENV = {
  GLIBC_TUNABLES: 'glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=131072',
} as const;

/**
 * zod's `z` namespace re-exports every locale's messages (about 300 KB of the 440 KB zod brings).
 * The agent speaks English only, so its bundle carries the English locale alone.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: resolve(args.resolveDir, '../locales'), namespace: 'zod-en' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from './en.js';`,
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};

export async function buildAgent(outfile = AGENT_BUNDLE): Promise<string> {
  await build({
    entryPoints: [`${root}apps/agent/src/main.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    charset: 'ascii',
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  });
  return outfile;
}

if (import.meta.main) {
  const out = await buildAgent(process.argv[2]);
  process.stdout.write(`built ${out}\n`);
}
