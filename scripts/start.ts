/**
 * `npm start`: the whole system on the embedded default, on this machine. Starts the API (libSQL
 * file under SYNTHFLEET_DATA_DIR) and every other component that exists in this checkout, and
 * stops them together on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

function start(name: string, script: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    process.stderr.write(`synthfleet: ${name} exited (${signal ?? code})\n`);
    if (!stopping) stop(1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() =>
    process.exit(code),
  );
}
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

start('api', 'apps/api/src/entry/node.ts');
for (const [name, script] of [
  ['syncer', 'apps/syncer/src/main.ts'],
  ['agent', 'apps/agent/src/main.ts'],
] as const) {
  if (existsSync(`${root}/${script}`)) start(name, script);
}
