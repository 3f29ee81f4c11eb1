import { describe, expect, it } from 'vitest';
import { assigned } from './testing/fixtures.ts';
import { errorOf, parseAssignment, parseRegisterAnswer, WireError } from './wire.ts';

const peer = { agentId: 'a2', node: 'n2', heartbeatUrl: 'http://10.0.0.2:8080' };
const test = assigned('web', { plugin: 'httpPing', repeat: '30s', config: { address: 'http://127.0.0.1:1' } });

describe('wire', () => {
  it('reads a registration answer and names the field that is wrong', () => {
    expect(
      parseRegisterAnswer({ agentId: 'a1', cluster: 'edge-1', pollWaitSeconds: 25, deadlineSeconds: 60, extra: 1 }),
    ).toEqual({ agentId: 'a1', cluster: 'edge-1', pollWaitSeconds: 25, deadlineSeconds: 60 });
    expect(() => parseRegisterAnswer({ agentId: 'a1', cluster: 'edge-1', pollWaitSeconds: 2.5 })).toThrow(
      new WireError('pollWaitSeconds', 'expected a whole number'),
    );
    expect(() => parseRegisterAnswer('<html>')).toThrow('(answer): expected an object');
    expect(() => parseRegisterAnswer(null)).toThrow(WireError);
  });

  it('reads an empty assignment and its peers by plain checks', async () => {
    expect(await parseAssignment({ agentId: 'a1', version: 3, tests: [], peers: [peer] })).toEqual({
      agentId: 'a1',
      version: 3,
      tests: [],
      peers: [peer],
    });
    await expect(
      parseAssignment({ agentId: 'a1', version: 3, tests: [], peers: [{ ...peer, node: 7 }] }),
    ).rejects.toThrow('peers.0.node: expected a string');
    await expect(parseAssignment({ agentId: 'a1', version: 3, peers: [] })).rejects.toThrow('tests: expected an array');
  });

  it('checks tests with the contract schema and names the path of the first problem', async () => {
    const a = await parseAssignment({ agentId: 'a1', version: 4, tests: [test], peers: [] });
    expect(a.tests).toHaveLength(1);
    expect(a.tests[0]?.name).toBe('web');
    const bad = parseAssignment({
      agentId: 'a1',
      version: 4,
      tests: [test, { ...test, spec: { ...test.spec, plugin: 'rm -rf' } }],
      peers: [],
    });
    await expect(bad).rejects.toThrow(WireError);
    await expect(bad).rejects.toThrow(/^tests\.1\.spec\.plugin: /);
  });

  it("reads the API's error envelope and nothing else", () => {
    expect(errorOf({ error: { code: 'unauthorized', message: 'bad token' } })).toEqual({
      code: 'unauthorized',
      message: 'bad token',
    });
    expect(errorOf({ error: 'x' })).toBeUndefined();
    expect(errorOf(null)).toBeUndefined();
    expect(errorOf('<html>')).toBeUndefined();
  });
});
