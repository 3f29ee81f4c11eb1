import { execFile } from 'node:child_process';
import { ensureSystemPackages } from '../../scripts/test-setup.ts';

export const WRK = '/usr/bin/wrk';

/** Installs Debian's wrk when missing (as the test setup does for its binaries). */
export function ensureWrk(): void {
  ensureSystemPackages([{ binary: WRK, pkg: 'wrk', why: 'the heartbeat benchmark loads servers with it' }]);
}

export type WrkResult = { rps: number; p50: number; p99: number; errors: number };

function ms(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)\b/.exec(text);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(text);
  const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (!rps || !p50 || !p99) throw new Error(`cannot read wrk's output:\n${text}`);
  return {
    rps: Number(rps[1]),
    p50: ms(p50[1] as string, p50[2] as string),
    p99: ms(p99[1] as string, p99[2] as string),
    errors: Number(errs?.[1] ?? 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}

/**
 * One wrk run: a single thread, `connections` keep-alive connections, `seconds` long. `extra`
 * adds arguments (`-H 'authorization: …'`, `-s script.lua`).
 */
export function runWrk(url: string, connections: number, seconds: number, extra: string[] = []): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    execFile(
      WRK,
      ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', '--latency', ...extra, url],
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`wrk failed: ${err.message} ${stderr}`));
        try {
          resolve(parseWrk(stdout));
        } catch (e) {
          reject(e);
        }
      },
    );
  });
}
