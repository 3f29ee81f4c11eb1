/**
 * synthetic-heart's agent selection rules (`IsAgentValidForSynTest` in common/helpers.go and Go's
 * `filepath.Match`), compared against cisco-open/synthetic-heart at commit 500284980fd7.
 */
import { describe, expect, it } from 'vitest';
import { agentAcceptsTest, GlobError, goGlob, type SelectableAgent } from './agent-selector.ts';
import { parseDownwardLabels } from './downward-labels.ts';
import { SyntheticTest } from './synthetic-test.ts';

const agent = (over: Partial<SelectableAgent> = {}): SelectableAgent => ({
  agentId: 'agent-x1/synthetic-heart',
  podName: 'agent-x1',
  podNamespace: 'synthetic-heart',
  podLabels: { tier: 'edge-agents', zone: 'eu-west-1a' },
  matchTestNamespaces: [],
  matchTestLabels: {},
  ...over,
});
const test = (podLabelSelector: Record<string, string> = {}, namespace = 'default', labels = {}) => ({
  namespace,
  labels,
  podLabelSelector,
});

describe('goGlob (filepath.Match)', () => {
  it('matches as Go does: * and ? stop at "/", classes, negation and escapes', () => {
    expect(goGlob('edge-*').test('edge-agents')).toBe(true);
    expect(goGlob('*').test('a/b')).toBe(false);
    expect(goGlob('eu-?-1').test('eu-w-1')).toBe(true);
    expect(goGlob('eu-west-1[a-c]').test('eu-west-1b')).toBe(true);
    expect(goGlob('eu-west-1[^a-c]').test('eu-west-1b')).toBe(false);
    expect(goGlob('eu-west-1[^a-c]').test('eu-west-1d')).toBe(true);
    expect(goGlob('a\\*b').test('a*b')).toBe(true);
    expect(goGlob('a\\*b').test('axb')).toBe(false);
    expect(goGlob('a.b').test('axb')).toBe(false);
  });
  it('refuses malformed patterns with a message naming them', () => {
    expect(() => goGlob('[abc')).toThrow(GlobError);
    expect(() => goGlob('abc\\')).toThrow(/unfinished/);
  });
});

describe('agentAcceptsTest (IsAgentValidForSynTest)', () => {
  it('an empty selector and no agent filters accept every test', () => {
    expect(agentAcceptsTest(agent(), test())).toBe(true);
  });
  it('pod labels match by glob; a key the pod lacks fails', () => {
    expect(agentAcceptsTest(agent(), test({ tier: 'edge-agents' }))).toBe(true);
    expect(agentAcceptsTest(agent(), test({ tier: 'edge-*', zone: 'eu-*' }))).toBe(true);
    expect(agentAcceptsTest(agent(), test({ tier: 'core' }))).toBe(false);
    expect(agentAcceptsTest(agent(), test({ rack: '*' }))).toBe(false);
  });
  it('special keys: $agentId exactly, $podName and $agentNamespace by glob', () => {
    expect(agentAcceptsTest(agent(), test({ $agentId: 'agent-x1/synthetic-heart' }))).toBe(true);
    expect(agentAcceptsTest(agent(), test({ $agentId: 'agent-*' }))).toBe(false);
    expect(agentAcceptsTest(agent(), test({ $podName: 'agent-*' }))).toBe(true);
    expect(agentAcceptsTest(agent(), test({ $podName: 'other-*' }))).toBe(false);
    expect(agentAcceptsTest(agent(), test({ $agentNamespace: 'synthetic-*' }))).toBe(true);
    expect(agentAcceptsTest(agent(), test({ $agentNamespace: 'some-other-namespace' }))).toBe(false);
  });
  it("the agent's matchTestNamespaces and matchTestLabels filter tests", () => {
    const picky = agent({ matchTestNamespaces: ['infra'], matchTestLabels: { team: 'net' } });
    expect(agentAcceptsTest(picky, test({}, 'infra', { team: 'net', other: 'x' }))).toBe(true);
    expect(agentAcceptsTest(picky, test({}, 'default', { team: 'net' }))).toBe(false);
    expect(agentAcceptsTest(picky, test({}, 'infra', { team: 'web' }))).toBe(false);
    expect(agentAcceptsTest(picky, test({}, 'infra', {}))).toBe(false);
  });
});

describe('parseDownwardLabels', () => {
  it('reads the downward API labels file', () => {
    const text = 'app.kubernetes.io/name="synthfleet"\ntier="edge-agents"\nquote="a\\"b"\n\nnot a label\n';
    expect(parseDownwardLabels(text)).toEqual({
      'app.kubernetes.io/name': 'synthfleet',
      tier: 'edge-agents',
      quote: 'a"b',
    });
  });
});

describe('podLabelSelector on the way in', () => {
  const obj = (podLabelSelector: Record<string, string>) => ({
    apiVersion: 'synheart.infra.webex.com/v1',
    kind: 'SyntheticTest',
    metadata: { name: 't' },
    spec: { plugin: 'dns', repeat: '1m', podLabelSelector },
  });
  it('accepts globs and special keys, and names a malformed glob', () => {
    expect(SyntheticTest.safeParse(obj({ $agentNamespace: 'edge-*', tier: '[ab]*' })).success).toBe(true);
    const bad = SyntheticTest.safeParse(obj({ tier: '[edge' }));
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['spec', 'podLabelSelector', 'tier']);
  });
});
