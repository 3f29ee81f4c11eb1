import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The absolute path of an executable on PATH (or the path itself if absolute and executable). */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = isAbsolute(name)
    ? [name]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export type ProcessResult = { code: number | null; signal: string | null; stdout: string; stderr: string };

const MAX_OUTPUT = 1024 * 1024;

/**
 * Runs a program in its own process group, feeding `input` on stdin. On abort the whole group is
 * killed (a probe script's children too), so a timed-out run leaves nothing behind.
 */
export function runProcess(
  file: string,
  args: readonly string[],
  opts: { input?: string; env?: Record<string, string>; signal: AbortSignal },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) {
      reject(opts.signal.reason);
      return;
    }
    const child = spawn(file, args, {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const onAbort = () => {
      kill();
      reject(opts.signal.reason);
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      opts.signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.once('close', (code, signal) => {
      opts.signal.removeEventListener('abort', onAbort);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // the program may exit without reading its input; that is its business
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The system's ping program, when it has one. */
export function pingBinary(): string | undefined {
  return findExecutable('ping') ?? findExecutable('/usr/bin/ping') ?? findExecutable('/bin/ping');
}
