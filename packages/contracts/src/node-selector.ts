import { z } from 'zod';

/**
 * A node selector picks agents by node name:
 * - a glob (`*`, `worker*`, `edge-?-a`): every live agent whose node name matches;
 * - a glob followed by `$` (`$`, `worker$`): exactly one of the matching live agents.
 * A bare `prefix$` is shorthand for `prefix*$`, as in synthetic-heart.
 */
export type NodeSelector = {
  readonly raw: string;
  readonly glob: string;
  readonly single: boolean;
};

export class NodeSelectorError extends Error {
  override name = 'NodeSelectorError';
}

// Node names are DNS-1123 subdomains; the selector may add the glob characters `*` and `?`.
const GLOB_CHARS = /^[a-z0-9.*?-]*$/;

export function parseNodeSelector(raw: string): NodeSelector {
  if (raw.length === 0) throw new NodeSelectorError('node selector is empty; use "*", "prefix*", "$" or "prefix$"');
  if (raw.length > 253) throw new NodeSelectorError('node selector is longer than 253 characters');
  const single = raw.endsWith('$');
  const body = single ? raw.slice(0, -1) : raw;
  if (body.includes('$')) {
    throw new NodeSelectorError(`node selector "${raw}" has "$" before its end; "$" may only close the selector`);
  }
  if (!GLOB_CHARS.test(body)) {
    throw new NodeSelectorError(
      `node selector "${raw}" has characters a node name cannot have; use lowercase letters, digits, ".", "-", "*" and "?"`,
    );
  }
  let glob = body;
  if (single && !/[*?]/.test(body)) glob = `${body}*`;
  if (glob === '') throw new NodeSelectorError(`node selector "${raw}" selects nothing`);
  return { raw, glob, single };
}

const regexCache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = regexCache.get(glob);
  if (!re) {
    const source = glob
      .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${source}$`);
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(glob, re);
  }
  return re;
}

/** Whether a node name matches the selector's glob (for `$` selectors: whether it is a candidate). */
export function matchesNode(selector: NodeSelector, nodeName: string): boolean {
  return globToRegExp(selector.glob).test(nodeName);
}

/** Pure selection: all matching nodes for a glob, or the candidates of a `$` selector. */
export function selectNodes(selector: NodeSelector, nodeNames: readonly string[]): string[] {
  return nodeNames.filter((n) => matchesNode(selector, n));
}

/**
 * Picks one candidate uniformly at random. `random` returns a number in [0, 1);
 * every candidate, the last one included, is reachable (unlike synthetic-heart's picker).
 */
export function pickOne<T>(candidates: readonly T[], random: () => number = Math.random): T | undefined {
  if (candidates.length === 0) return undefined;
  const r = random();
  const i = Math.min(candidates.length - 1, Math.max(0, Math.floor(r * candidates.length)));
  return candidates[i];
}

export const NodeSelectorString = z.string().superRefine((value, ctx) => {
  try {
    parseNodeSelector(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
