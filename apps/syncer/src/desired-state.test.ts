import { describe, expect, it } from 'vitest';
import { createDesiredState } from './desired-state.ts';

const OURS = 'synthfleet.dev/v1';
const THEIRS = 'synheart.infra.webex.com/v1';
const obj = (
  name: string,
  spec: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
  apiVersion = OURS,
) => ({
  apiVersion,
  kind: 'SyntheticTest',
  metadata: { name, namespace: 'default', ...meta },
  spec: { plugin: 'dns', repeat: '30s', ...spec },
});

describe('desired state', () => {
  it('reports a key only when what goes up changes: the generation decides for cluster objects', () => {
    const changed: string[] = [];
    const s = createDesiredState((k) => changed.push(k));
    s.upsert(OURS, obj('a', {}, { generation: 1, resourceVersion: '5' }));
    s.upsert(OURS, { ...obj('a', {}, { generation: 1, resourceVersion: '6' }), status: { phase: 'Passing' } });
    expect(changed).toEqual(['default/a']);
    s.upsert(OURS, obj('a', { repeat: '1m' }, { generation: 2, resourceVersion: '7' }));
    expect(changed).toEqual(['default/a', 'default/a']);
    // The newest raw object (with its status) is kept for the status write-back.
    expect(s.effective('default/a')?.raw.metadata).toMatchObject({ resourceVersion: '7' });
    // Without generations (files), the content decides.
    s.upsert(OURS, obj('f'));
    s.upsert(OURS, obj('f'));
    s.upsert(OURS, obj('f', { repeat: '2m' }));
    expect(changed.filter((k) => k === 'default/f')).toHaveLength(2);
  });

  it('a relist replaces its scope only: adds, changes, removes, and leaves other namespaces alone', () => {
    const changed: string[] = [];
    const s = createDesiredState((k) => changed.push(k));
    s.replace(OURS, 'x', [obj('a', {}, { namespace: 'x' }), obj('b', {}, { namespace: 'x' })]);
    s.replace(OURS, 'y', [obj('c', {}, { namespace: 'y' })]);
    changed.length = 0;
    s.replace(OURS, 'x', [obj('a', {}, { namespace: 'x' }), obj('d', {}, { namespace: 'x' })]);
    expect(changed.sort()).toEqual(['x/b', 'x/d']);
    expect([...s.keys()].sort()).toEqual(['x/a', 'x/d', 'y/c']);
  });

  it('keeps invalid objects out of the snapshot with a message naming the field', () => {
    const s = createDesiredState(() => {});
    const bad = s.upsert(OURS, obj('bad', { plugin: 'nope' }));
    s.upsert(OURS, obj('good'));
    expect(bad?.valid).toBe(false);
    expect(bad && !bad.valid && bad.message).toMatch(/spec\.plugin: unknown plugin "nope"/);
    expect(s.snapshotItems().map((i) => i.key)).toEqual(['default/good']);
    expect(s.upsert(OURS, { metadata: {} })).toBeUndefined();
  });

  it('prefers the synthfleet.dev object when both groups name the same test', () => {
    const s = createDesiredState(() => {});
    const theirs = s.upsert(THEIRS, obj('t', {}, {}, THEIRS));
    expect(s.effective('default/t')?.apiVersion).toBe(THEIRS);
    s.upsert(OURS, obj('t'));
    expect(s.effective('default/t')?.apiVersion).toBe(OURS);
    expect(theirs && s.shadowedBy(theirs)).toBe(OURS);
    s.remove(OURS, 'default', 't');
    expect(s.effective('default/t')?.apiVersion).toBe(THEIRS);
  });
});
