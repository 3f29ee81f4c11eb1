import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.ts';

const base = { SYNTHFLEET_API_URL: 'http://127.0.0.1:8787', SYNTHFLEET_TOKEN: 'sfc_x', NODE_NAME: 'edge-1-node-a' };

describe('agent env', () => {
  it('applies the documented defaults', () => {
    const env = parseEnv(base);
    expect(env).toMatchObject({
      HEARTBEAT_PORT: 8080,
      HEARTBEAT_MIN: 1,
      HEARTBEAT_MAX: 1024 * 1024,
      MAX_CONCURRENT_RUNS: 16,
      EXEC_ALLOW: [],
      EXEC_ENV_ALLOW: [],
    });
  });

  it('names every bad variable', () => {
    expect(() => parseEnv({ ...base, SYNTHFLEET_TOKEN: undefined, HEARTBEAT_PORT: 'eighty' })).toThrow(
      /SYNTHFLEET_TOKEN: is required[\s\S]*HEARTBEAT_PORT/,
    );
    expect(() => parseEnv({ ...base, HEARTBEAT_MIN: '10', HEARTBEAT_MAX: '5' })).toThrow(
      'HEARTBEAT_MIN: must not exceed HEARTBEAT_MAX',
    );
    expect(() => parseEnv({ ...base, EXEC_ALLOW: 'probes' })).toThrow('"probes" is not an absolute path');
    expect(() => parseEnv({ ...base, NODE_NAME: 'Not A Node' })).toThrow('NODE_NAME');
    expect(() => parseEnv({ ...base, SYNTHFLEET_API_URL: 'ftp://x' })).toThrow('SYNTHFLEET_API_URL');
  });

  it('splits EXEC_ALLOW on ":"', () => {
    expect(parseEnv({ ...base, EXEC_ALLOW: '/opt/probes:/usr/local/bin/check' }).EXEC_ALLOW).toEqual([
      '/opt/probes',
      '/usr/local/bin/check',
    ]);
  });

  it('takes EXEC_ENV_ALLOW as names, and never a loader, shell or interpreter variable', () => {
    expect(parseEnv({ ...base, EXEC_ENV_ALLOW: 'MODE, TARGET_REGION' }).EXEC_ENV_ALLOW).toEqual([
      'MODE',
      'TARGET_REGION',
    ]);
    expect(() => parseEnv({ ...base, EXEC_ENV_ALLOW: 'MODE,BASH_ENV' })).toThrow(
      'EXEC_ENV_ALLOW.1: BASH_ENV changes how a program is found, loaded or interpreted and can never be set',
    );
    expect(() => parseEnv({ ...base, EXEC_ENV_ALLOW: 'LD_PRELOAD' })).toThrow('LD_PRELOAD (LD_*)');
    expect(() => parseEnv({ ...base, EXEC_ENV_ALLOW: 'a-b' })).toThrow('must list variable names');
  });
});
