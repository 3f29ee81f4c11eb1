import { z } from 'zod';

/*
 * Which agents a test may run on beyond its node selector, with synthetic-heart's rules
 * (`IsAgentValidForSynTest`, common/helpers.go at cisco-open/synthetic-heart 500284980fd7):
 * - the agent's own filters: `matchTestNamespaces` (the test's namespace must be one of them) and
 *   `matchTestLabels` (the test must carry each label with exactly that value);
 * - the test's `podLabelSelector`: every key must match, by glob, the agent pod's label of that
 *   name; the special keys `$agentId` (equal to `podName/podNamespace`), `$podName` and
 *   `$agentNamespace` (globs) match the agent itself. A key the pod lacks fails the match.
 * Globs follow Go's `filepath.Match`: `*` and `?` never match `/`; `[a-z]`, `[^x]` and `\` escapes.
 */

export const SPECIAL_SELECTOR_KEYS = ['$agentId', '$podName', '$agentNamespace'] as const;

export type SelectableAgent = {
  /** synthetic-heart's agent id, `podName/podNamespace`. */
  readonly agentId: string;
  readonly podName: string;
  readonly podNamespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly matchTestNamespaces: readonly string[];
  readonly matchTestLabels: Readonly<Record<string, string>>;
};

export type SelectableTest = {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly podLabelSelector: Readonly<Record<string, string>>;
};

export class GlobError extends Error {
  override name = 'GlobError';
}

const globCache = new Map<string, RegExp>();

/** Go's `filepath.Match` pattern as a regular expression; throws GlobError on a malformed one. */
export function goGlob(pattern: string): RegExp {
  const cached = globCache.get(pattern);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new GlobError(`pattern "${pattern}" ends with an unfinished "\\"`);
      source += escapeRe(next);
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new GlobError(`pattern "${pattern}" has a "[" without its "]"`);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      if (body === '') throw new GlobError(`pattern "${pattern}" has an empty character class`);
      source += `[${negate ? '^/' : ''}${body.replace(/[\]\\^]/g, (m) => (m === '\\' ? '\\\\' : `\\${m}`))}]`;
      i = end;
    } else source += escapeRe(ch);
  }
  let re: RegExp;
  try {
    re = new RegExp(`^${source}$`, 'u');
  } catch {
    throw new GlobError(`pattern "${pattern}" is not a valid glob`);
  }
  if (globCache.size > 10_000) globCache.clear();
  globCache.set(pattern, re);
  return re;
}

function escapeRe(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function globMatches(pattern: string, value: string): boolean {
  try {
    return goGlob(pattern).test(value);
  } catch {
    return false; // synthetic-heart skips the agent on a bad pattern; the API rejects them on the way in
  }
}

/** Whether the agent may run the test, node selector aside (see the rules above). */
export function agentAcceptsTest(agent: SelectableAgent, test: SelectableTest): boolean {
  if (agent.matchTestNamespaces.length > 0 && !agent.matchTestNamespaces.includes(test.namespace)) return false;
  for (const [k, v] of Object.entries(agent.matchTestLabels)) if (test.labels[k] !== v) return false;
  for (const [k, v] of Object.entries(test.podLabelSelector)) {
    if (k === '$agentId' && v === agent.agentId) continue;
    if (k === '$agentNamespace' && globMatches(v, agent.podNamespace)) continue;
    if (k === '$podName' && globMatches(v, agent.podName)) continue;
    const label = agent.podLabels[k];
    if (label === undefined || !globMatches(v, label)) return false;
  }
  return true;
}

/** A podLabelSelector: label names (or the special keys) to globs, each checked on the way in. */
export const PodLabelSelector = z
  .record(z.string().min(1).max(317), z.string().max(253))
  .superRefine((selector, ctx) => {
    if (Object.keys(selector).length > 50) {
      ctx.addIssue({ code: 'custom', message: 'podLabelSelector may have at most 50 keys' });
    }
    for (const [k, v] of Object.entries(selector)) {
      if (k === '$agentId') continue; // compared for equality, not as a glob
      try {
        goGlob(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [k], message: (err as Error).message });
      }
    }
  });
