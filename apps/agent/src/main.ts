import { EnvError } from '@synthfleet/contracts/env';
import { createAgent } from './agent.ts';
import { parseEnv } from './env.ts';

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv(process.env);
} catch (err) {
  if (!(err instanceof EnvError)) throw err;
  process.stderr.write(`synthfleet agent: ${err.message}\n`);
  process.exit(1);
}

const agent = createAgent(env);
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  const grace = env.SHUTDOWN_GRACE_SECONDS * 1000;
  setTimeout(() => {
    process.stderr.write(`synthfleet agent: not stopped within ${env.SHUTDOWN_GRACE_SECONDS}s of ${signal}; exiting\n`);
    process.exit(1);
  }, grace).unref();
  await agent.stop(grace);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

// No top-level await: the shipped bundle is CommonJS (see scripts/build-agent.ts).
agent.start().catch((err: unknown) => {
  process.stderr.write(`synthfleet agent: cannot start: ${(err as Error).message}\n`);
  process.exit(1);
});
