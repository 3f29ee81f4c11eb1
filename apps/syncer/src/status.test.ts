import type { TestRollup } from '@synthfleet/contracts';
import { describe, expect, it } from 'vitest';
import { checkObject } from './objects.ts';
import { desiredStatus, sameStatus, statusPatch } from './status.ts';

const now = new Date('2026-11-22T10:00:00.000Z');
const rollup = (over: Partial<TestRollup> = {}): TestRollup => ({
  namespace: 'default',
  name: 't',
  revision: 1,
  generation: 3,
  state: 'passing',
  stateReason: null,
  passingAgents: 2,
  failingAgents: 0,
  assignedAgents: 2,
  lastRunAt: '2026-11-22T09:59:58.123Z',
  failingSince: null,
  lastFailureMessage: null,
  nodes: ['n1', 'n2'],
  ...over,
});
function object(status?: unknown, apiVersion = 'synthfleet.dev/v1', spec: Record<string, unknown> = {}) {
  const c = checkObject({
    apiVersion,
    kind: 'SyntheticTest',
    metadata: { name: 't', namespace: 'default', generation: 3 },
    spec: { plugin: 'dns', repeat: '30s', ...spec },
    status,
  });
  if (!c) throw new Error('no object');
  return c;
}

describe('status', () => {
  it('maps the roll-up to phase, counts, nodes and times, and is stable when nothing changed', () => {
    const s = desiredStatus({ object: object(), rollup: rollup(), notMirrored: undefined, now });
    expect(s).toMatchObject({
      phase: 'Passing',
      observedGeneration: 3,
      passingAgents: 2,
      nodes: ['n1', 'n2'],
      lastRunTime: '2026-11-22T09:59:58Z',
      conditions: [{ type: 'Valid', status: 'True', lastTransitionTime: '2026-11-22T10:00:00Z' }],
    });
    const later = new Date('2026-11-22T11:00:00.000Z');
    const again = desiredStatus({ object: object(s), rollup: rollup(), notMirrored: undefined, now: later });
    expect(sameStatus(s, again)).toBe(true);
    const failing = desiredStatus({
      object: object(s),
      rollup: rollup({ state: 'failing', failingAgents: 1, lastFailureMessage: 'boom' }),
      notMirrored: undefined,
      now: later,
    });
    expect(failing).toMatchObject({ phase: 'Failing', lastFailureMessage: 'boom' });
    expect(sameStatus(s, failing)).toBe(false);
    expect(desiredStatus({ object: object(), rollup: undefined, notMirrored: undefined, now }).phase).toBe('Pending');
  });

  it('says Invalid with the reason, and removes roll-up fields that no longer apply', () => {
    const before = desiredStatus({ object: object(), rollup: rollup(), notMirrored: undefined, now });
    const bad = object(before, 'synthfleet.dev/v1', { plugin: 'nope' });
    const s = desiredStatus({ object: bad, rollup: rollup(), notMirrored: undefined, now });
    expect(s).toMatchObject({ phase: 'Invalid', conditions: [{ status: 'False', reason: 'InvalidSpec' }] });
    expect(s.passingAgents).toBeUndefined();
    const patch = statusPatch(before, s);
    expect(patch.passingAgents).toBeNull();
    expect(patch.phase).toBe('Invalid');
  });

  it("writes only synthetic-heart's own fields on its objects", () => {
    const s = desiredStatus({
      object: object(undefined, 'synheart.infra.webex.com/v1'),
      rollup: rollup(),
      notMirrored: undefined,
      now,
    });
    expect(s).toEqual({ deployed: true, agent: 'n1,n2', message: 'Passing' });
  });

  it('says Unsupported, naming the plugin, for a test no agent can run, in both groups', () => {
    const none = rollup({ state: 'unsupported', passingAgents: 0, assignedAgents: 0, nodes: [], lastRunAt: null });
    const sh = desiredStatus({
      object: object(undefined, 'synheart.infra.webex.com/v1', { plugin: 'json-ping.py' }),
      rollup: none,
      notMirrored: undefined,
      now,
    });
    expect(sh).toEqual({ deployed: false, message: 'Unsupported: no agent offers plugin "json-ping.py"' });
    const ours = desiredStatus({
      object: object(undefined, 'synthfleet.dev/v1', { plugin: 'curl' }),
      rollup: none,
      notMirrored: undefined,
      now,
    });
    expect(ours.phase).toBe('Unsupported');
    expect(ours.message).toBe('Unsupported: no agent offers plugin "curl"');
  });

  it("writes the test's verdict as the phase, with why it is stale", () => {
    for (const [state, phase] of [
      ['passing', 'Passing'],
      ['failing', 'Failing'],
      ['degraded', 'Degraded'],
      ['pending', 'Pending'],
      ['skipped', 'Skipped'],
      ['unsupported', 'Unsupported'],
    ] as const) {
      expect(desiredStatus({ object: object(), rollup: rollup({ state }), notMirrored: undefined, now }).phase).toBe(
        phase,
      );
    }
    const stale = desiredStatus({
      object: object(),
      rollup: rollup({ state: 'stale', stateReason: 'no result for 6m 0s' }),
      notMirrored: undefined,
      now,
    });
    expect([stale.phase, stale.message]).toEqual(['Stale', 'Stale: no result for 6m 0s']);
    const sh = desiredStatus({
      object: object(undefined, 'synheart.infra.webex.com/v1'),
      rollup: rollup({ state: 'stale', stateReason: 'no result for 6m 0s' }),
      notMirrored: undefined,
      now,
    });
    expect(sh.message).toBe('Stale: no result for 6m 0s');
  });
});
