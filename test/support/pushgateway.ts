import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './free-port.ts';

export const PUSHGATEWAY_BIN = '/usr/bin/prometheus-pushgateway';

export type Pushgateway = { url: string; metrics(): Promise<string>; stop(): Promise<void> };

/**
 * Starts Debian's prometheus-pushgateway on 127.0.0.1 and waits until it answers. Debian builds it
 * with `--persistence.file=/var/lib/prometheus/pushgateway.data` by default, so every gateway
 * started without the flag would load (and write) groups of every other: persistence is off here.
 */
export async function startPushgateway(): Promise<Pushgateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PUSHGATEWAY_BIN,
    [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`pushgateway exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
    if (i === 99) throw new Error(`pushgateway did not start on ${url}: ${stderr}`);
  }
  return {
    url,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
