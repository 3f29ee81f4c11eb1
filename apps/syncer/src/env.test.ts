import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.ts';

const base = { SYNTHFLEET_API_URL: 'http://127.0.0.1:8787', SYNTHFLEET_TOKEN: 't' };

describe('syncer env', () => {
  it('has defaults, reads lists, and takes --dir', () => {
    const env = parseEnv({ ...base, WATCH_NAMESPACES: 'a, b' }, ['--dir', '/tmp/x']);
    expect(env).toMatchObject({
      WATCH_NAMESPACES: ['a', 'b'],
      WATCH_GROUPS: ['synthfleet.dev', 'synheart.infra.webex.com'],
      RESYNC_SECONDS: 300,
      STATUS_SECONDS: 30,
      SYNCER_DIR: '/tmp/x',
    });
    expect(parseEnv({ ...base, WATCH_GROUPS: 'synthfleet.dev' }).WATCH_GROUPS).toEqual(['synthfleet.dev']);
  });

  it('names every bad variable', () => {
    expect(() => parseEnv({ SYNTHFLEET_TOKEN: 't' })).toThrow(/SYNTHFLEET_API_URL: is required/);
    expect(() => parseEnv({ ...base, WATCH_GROUPS: 'example.com' })).toThrow(
      /WATCH_GROUPS.*unknown group "example.com"/,
    );
    expect(() => parseEnv({ ...base, RESYNC_SECONDS: '1' })).toThrow(/RESYNC_SECONDS/);
    expect(() => parseEnv({ ...base, WATCH_NAMESPACES: 'Bad_NS' })).toThrow(/WATCH_NAMESPACES/);
    expect(() => parseEnv(base, ['--dir'])).toThrow(/--dir: needs a directory/);
  });
});
