import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('agent logger', () => {
  it("writes pino's line shape at or above its level, with bindings, children and errors", () => {
    const lines: string[] = [];
    const log = createLogger('info', { node: 'n1' }, (l) => lines.push(l));
    log.debug({ a: 1 }, 'hidden');
    log.info({ a: 1 }, 'shown');
    log.child({ test: 't' }).warn('plain text');
    log.error({ err: new TypeError('boom') }, 'failed');
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    const [a, b, c] = lines.map((l) => JSON.parse(l));
    expect(a).toMatchObject({ level: 30, app: 'agent', node: 'n1', a: 1, msg: 'shown', pid: process.pid });
    expect(typeof a.time).toBe('number');
    expect(b).toMatchObject({ level: 40, node: 'n1', test: 't', msg: 'plain text' });
    expect(c).toMatchObject({ level: 50, msg: 'failed', err: { type: 'TypeError', message: 'boom' } });
    const silent: string[] = [];
    createLogger('silent', {}, (l) => silent.push(l)).error('x');
    expect(silent).toEqual([]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.info(cyclic, 'cycle');
    expect(JSON.parse(lines[3] as string)).toMatchObject({ msg: 'cycle', logError: expect.any(String) });
  });
});
