import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesNode, NodeSelectorError, parseNodeSelector, pickOne, selectNodes } from './node-selector.ts';

const nodeName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);

describe('node selectors', () => {
  it('`*` matches every node', () => {
    fc.assert(
      fc.property(nodeName, (n) => {
        expect(matchesNode(parseNodeSelector('*'), n)).toBe(true);
      }),
    );
  });

  it('`prefix*` matches exactly the nodes that start with the prefix', () => {
    fc.assert(
      fc.property(nodeName, nodeName, (prefix, n) => {
        expect(matchesNode(parseNodeSelector(`${prefix}*`), n)).toBe(n.startsWith(prefix));
      }),
    );
  });

  it('`prefix$` is single and has the same candidates as `prefix*`', () => {
    fc.assert(
      fc.property(nodeName, fc.array(nodeName, { maxLength: 20 }), (prefix, nodes) => {
        const one = parseNodeSelector(`${prefix}$`);
        expect(one.single).toBe(true);
        expect(selectNodes(one, nodes)).toEqual(selectNodes(parseNodeSelector(`${prefix}*`), nodes));
      }),
    );
  });

  it('`$` is single over every node; a plain name matches only itself', () => {
    const any = parseNodeSelector('$');
    expect(any.single).toBe(true);
    expect(selectNodes(any, ['a', 'b'])).toEqual(['a', 'b']);
    expect(selectNodes(parseNodeSelector('worker-1'), ['worker-1', 'worker-10'])).toEqual(['worker-1']);
    expect(selectNodes(parseNodeSelector('edge-?-a'), ['edge-1-a', 'edge-12-a', 'edge-2-a'])).toEqual([
      'edge-1-a',
      'edge-2-a',
    ]);
  });

  it.each([
    ['', /empty/],
    ['wor$ker', /"\$" before its end/],
    ['Worker*', /characters a node name cannot have/],
    ['a b', /characters a node name cannot have/],
    ['(.*)', /characters a node name cannot have/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseNodeSelector(raw)).toThrow(NodeSelectorError);
    expect(() => parseNodeSelector(raw)).toThrow(message);
  });

  it('pickOne can reach every candidate, the last one included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), (n) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const seen = new Set<number>();
        for (let i = 0; i < n; i++) {
          const picked = pickOne(items, () => (i + 0.5) / n);
          if (picked !== undefined) seen.add(picked);
        }
        expect(seen.size).toBe(n);
        expect(pickOne(items, () => 0.999_999_999)).toBe(n - 1);
      }),
    );
    expect(pickOne([], Math.random)).toBeUndefined();
  });
});
