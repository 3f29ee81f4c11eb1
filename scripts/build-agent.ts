/**
 * `npm run build:agent`: the agent as it ships, one minified CommonJS file (apps/agent/dist/agent.cjs)
 * with every dependency inside (scripts/bundle.ts says why a bundle, and why CommonJS); the
 * container image runs it.
 */

import { bundleForNode, ROOT_DIR } from './bundle.ts';

export { ROOT_DIR };
export const AGENT_BUNDLE = `${ROOT_DIR}apps/agent/dist/agent.cjs`;

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

export function buildAgent(outfile = AGENT_BUNDLE): Promise<string> {
  return bundleForNode('apps/agent/src/main.ts', outfile);
}

if (import.meta.main) {
  const out = await buildAgent(process.argv[2]);
  process.stdout.write(`built ${out}\n`);
}
