import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { createProbeSet } from './probe-set.ts';
import { runProbe } from './registry.ts';
import { probeContext } from './testing/context.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthfleet-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Whether a process exists and is not a zombie (an orphan may wait a while to be reaped). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const probes = createProbeSet({ canPing: false, execAllow: [dir], execEnvAllow: ['GREETING'] });

describe('exec', () => {
  it('hands the config to the program on stdin and reads its JSON result', async () => {
    const file = script(
      'echo-config.sh',
      `read line; n=$(echo "$line" | grep -c '"want":3'); echo '{"marks":'$n',"maxMarks":1,"log":"got config"}'`,
    );
    const r = await runProbe(probes, 'exec', { command: file, want: 3 }, probeContext());
    expect(r.status).toBe('pass');
    expect(r.details._log).toBe('got config');
  });

  it('passes args and env, and takes gauges and details', async () => {
    const file = script(
      'args.sh',
      `echo '{"marks":1,"maxMarks":2,"error":"'"$1-$GREETING"'","details":{"k":"v"},"gauges":[{"name":"my_gauge","value":4}]}'; exit 1`,
    );
    const r = await runProbe(probes, 'exec', { command: file, args: ['one'], env: { GREETING: 'hi' } }, probeContext());
    expect(r.status).toBe('fail');
    expect(r.details).toMatchObject({ k: 'v', _error: 'one-hi' });
    expect(r.gauges).toEqual([{ name: 'my_gauge', value: 4 }]);
  });

  it('never hands a spec loader, shell or interpreter variables: a bash script is not made to run a command', async () => {
    // The outside test's repro: BASH_ENV names a file bash sources, and bash expands the value first.
    const marker = join(dir, 'pwned');
    const file = join(dir, 'check.sh');
    writeFileSync(file, `#!/bin/bash\necho '{"marks":1,"maxMarks":1}'\n`);
    chmodSync(file, 0o755);
    for (const [name, value] of [
      ['BASH_ENV', `$(touch ${marker})`],
      ['ENV', `$(touch ${marker})`],
      ['LD_PRELOAD', `${dir}/evil.so`],
      ['PATH', dir],
      ['SHELLOPTS', 'xtrace'],
      ['PS4', `$(touch ${marker})`],
      ['NODE_OPTIONS', `--require ${dir}/evil.js`],
      ['PYTHONSTARTUP', `${dir}/evil.py`],
      ['PERL5OPT', '-Mevil'],
      ['IFS', '/'],
    ]) {
      const everywhere = createProbeSet({ canPing: false, execAllow: [dir], execEnvAllow: ['GREETING', 'MODE'] });
      const r = await runProbe(everywhere, 'exec', { command: file, env: { [name as string]: value } }, probeContext());
      expect(r.status, name).toBe('error');
      expect(r.details._error, name).toContain(`config.env.${name}`);
      expect(r.details._error, name).toContain('can never be set');
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a variable the operator did not allow, and starts the program from a fixed minimal environment', async () => {
    const notAllowed = await runProbe(
      probes,
      'exec',
      { command: script('ok.sh', `echo '{"marks":1,"maxMarks":1}'`), env: { MODE: 'x' } },
      probeContext(),
    );
    expect(notAllowed.status).toBe('error');
    expect(notAllowed.details._error).toContain(
      'config.env.MODE is not a variable this agent lets a spec set (EXEC_ENV_ALLOW: GREETING)',
    );
    process.env.SYNTHFLEET_TOKEN_FOR_EXEC_TEST = 'agent-secret';
    try {
      const file = script(
        'env.sh',
        `env | grep -v '^_=' | grep -v '^PWD=' | grep -v '^SHLVL=' | sort | tr '\n' ' ' > ${dir}/env.txt; echo '{"marks":1,"maxMarks":1}'`,
      );
      const r = await runProbe(probes, 'exec', { command: file, env: { GREETING: '$(id)' } }, probeContext());
      expect(r.status).toBe('pass');
      expect(readFileSync(join(dir, 'env.txt'), 'utf8').trim()).toBe(
        'GREETING=$(id) LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      );
    } finally {
      delete process.env.SYNTHFLEET_TOKEN_FOR_EXEC_TEST;
    }
  });

  it('reports output that is not a result, with stderr', async () => {
    const file = script('broken.sh', 'echo "oops" >&2; echo "not json"; exit 3');
    const r = await runProbe(probes, 'exec', { command: file }, probeContext());
    expect(r.status).toBe('error');
    expect(r.details._error).toContain('gave no valid result (exit 3): stdout is not JSON');
    expect(r.details._log).toContain('oops');
  });

  it('refuses programs outside the allowed directories', async () => {
    const r = await runProbe(probes, 'exec', { command: '/bin/sh', args: ['-c', 'echo hi'] }, probeContext());
    expect(r.status).toBe('error');
    expect(r.details._error).toContain('outside the agent');
    expect(createProbeSet({ canPing: false }).has('exec')).toBe(false);
  });

  it('kills the program and its children when the run is cancelled', async () => {
    // The script's background child writes its pid, then would live for 120 s. The test aborts only
    // once that pid is known and then checks the process is gone: no reliance on timers, which a
    // loaded machine may fire seconds late.
    const pidFile = join(dir, 'child.pid');
    const file = script('hang.sh', `sleep 120 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; sleep 30`);
    const ctl = new AbortController();
    const pending = runProbe(probes, 'exec', { command: file }, probeContext({ signal: ctl.signal }));
    await waitFor(() => existsSync(pidFile), 30_000, 'the script wrote its child pid');
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(childPid)).toBe(true);
    ctl.abort(new DOMException('run timed out', 'TimeoutError'));
    await expect(pending).rejects.toThrow('run timed out');
    await waitFor(() => !alive(childPid), 30_000, 'the child is gone');
    expect(alive(childPid)).toBe(false);
  });
});
