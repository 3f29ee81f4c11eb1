import { describe, expect, it } from 'vitest';
import { describeIssues, formatIssues } from './errors.ts';
import { SyntheticTest } from './synthetic-test.ts';

const base = {
  apiVersion: 'synthfleet.dev/v1',
  kind: 'SyntheticTest',
  metadata: { name: 'web', namespace: 'default' },
  spec: { plugin: 'httpPing', repeat: '30s', config: 'address: http://127.0.0.1:1' },
};

function errorOf(value: unknown): string {
  const r = SyntheticTest.safeParse(value);
  if (r.success) throw new Error('expected a validation error');
  return formatIssues(describeIssues(r.error));
}

describe('SyntheticTest', () => {
  it('applies the defaults of the spec table', () => {
    const t = SyntheticTest.parse(base);
    expect(t.spec.node).toBe('$');
    expect(t.spec.timeouts).toEqual({ init: '10s', run: '10s', finish: '10s' });
  });

  it("takes an empty timeout as not set (synthetic-heart's chart examples), and still names a bad one", () => {
    const t = SyntheticTest.parse({ ...base, spec: { ...base.spec, timeouts: { init: '', run: '5s', finish: ' ' } } });
    expect(t.spec.timeouts).toEqual({ init: '10s', run: '5s', finish: '10s' });
    expect(errorOf({ ...base, spec: { ...base.spec, timeouts: { init: 'soon' } } })).toMatch(/spec\.timeouts\.init/);
  });

  it('runs an omitted node on every agent for synthetic-heart objects, on one agent for ours', () => {
    const heart = { ...base, apiVersion: 'synheart.infra.webex.com/v1' };
    expect(SyntheticTest.parse(heart).spec.node).toBe('*');
    expect(SyntheticTest.parse({ ...heart, spec: { ...heart.spec, node: '' } }).spec.node).toBe('*');
    expect(SyntheticTest.parse({ ...heart, spec: { ...heart.spec, node: 'edge$' } }).spec.node).toBe('edge$');
    expect(SyntheticTest.parse(base).spec.node).toBe('$');
  });

  it("accepts synthetic-heart's group and fields unchanged", () => {
    const t = SyntheticTest.parse({
      apiVersion: 'synheart.infra.webex.com/v1',
      kind: 'SyntheticTest',
      metadata: { name: 'dns-test', namespace: 'synthetic-heart' },
      spec: {
        plugin: 'dns',
        node: 'worker$',
        repeat: '1m',
        displayName: 'DNS',
        importance: 'high',
        dependsOn: ['net-test'],
        podLabelSelector: { $agentId: 'x' },
        pluginRestartPolicy: 'onError',
        logWaitTime: '5s',
        timeouts: { run: '20s' },
        config: 'domains:\n  - example.com\nrepeats: 2\n',
      },
    });
    expect(t.spec.timeouts).toEqual({ init: '10s', run: '20s', finish: '10s' });
  });

  it('accepts a cron schedule instead of repeat, an object config and a quorum', () => {
    const t = SyntheticTest.parse({
      ...base,
      spec: { plugin: 'netDial', schedule: '*/5 * * * *', config: { addresses: [] }, quorum: '60%' },
    });
    expect(t.spec.quorum).toBe('60%');
  });

  it.each([
    [{ ...base, spec: { ...base.spec, plugin: 'teleport' } }, /spec\.plugin: unknown plugin "teleport"/],
    [{ ...base, spec: { ...base.spec, repeat: '30' } }, /spec\.repeat: duration "30" is missing a unit/],
    [{ ...base, spec: { plugin: 'dns' } }, /spec\.repeat: repeat is required unless schedule is set/],
    [{ ...base, spec: { ...base.spec, node: 'a$b' } }, /spec\.node: node selector/],
    [{ ...base, spec: { ...base.spec, importance: 'urgent' } }, /spec\.importance/],
    [{ ...base, spec: { ...base.spec, timeouts: { run: 'soon' } } }, /spec\.timeouts\.run/],
    [{ ...base, spec: { ...base.spec, schedule: 'every day' } }, /spec\.schedule: cron schedule/],
    [{ ...base, spec: { ...base.spec, quorum: 0 } }, /spec\.quorum/],
    [{ ...base, metadata: { name: 'Bad_Name' } }, /metadata\.name/],
    [{ ...base, kind: 'Pod' }, /kind: kind must be "SyntheticTest"/],
    [{ ...base, apiVersion: 'v1' }, /apiVersion/],
  ])('names the field that is wrong (%#)', (value, message) => {
    expect(errorOf(value)).toMatch(message);
  });
});
