/**
 * Installs what the test suite needs from Debian when it is missing, so `npm test` works on a
 * fresh machine. Each entry names the binary the tests start and the package that provides it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

type Need = { binary: string; pkg: string; why: string };

export const NEEDS: readonly Need[] = [
  { binary: '/usr/bin/prometheus-pushgateway', pkg: 'prometheus-pushgateway', why: 'agent metrics tests push to it' },
  { binary: '/usr/bin/ping', pkg: 'iputils-ping', why: 'the ping probe runs the system ping' },
  { binary: '/usr/bin/promtool', pkg: 'prometheus', why: 'the alert rules are checked and unit-tested with promtool' },
  {
    binary: '/usr/bin/prometheus-alertmanager',
    pkg: 'prometheus-alertmanager',
    why: 'the alert rules are run for real through Prometheus and Alertmanager',
  },
  { binary: '/usr/bin/kubectl', pkg: 'kubectl', why: 'the kustomize base is built with kubectl kustomize' },
  { binary: '/usr/bin/chromium', pkg: 'chromium', why: 'the dashboard is tested in a real headless browser' },
];

function missing(needs: readonly Need[]): Need[] {
  return needs.filter((n) => !existsSync(n.binary));
}

export function ensureSystemPackages(needs: readonly Need[] = NEEDS): void {
  const todo = missing(needs);
  if (todo.length === 0) return;
  const pkgs = [...new Set(todo.map((n) => n.pkg))];
  process.stdout.write(`test setup: installing ${pkgs.join(', ')} (${todo.map((n) => n.why).join('; ')})\n`);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = asRoot ? [] : ['sudo', '-n'];
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args] as [string, ...string[]];
    execFileSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  const still = missing(needs);
  if (still.length > 0) throw new Error(`test setup: still missing ${still.map((n) => n.binary).join(', ')}`);
}

if (import.meta.main) ensureSystemPackages();
