import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { KEEP_ALIVE_TIMEOUT_MS, SERVER_TIMEOUTS } from '@synthfleet/contracts';
import { createDatabase, redactUrl } from '@synthfleet/db';
import { migrateDatabase } from '@synthfleet/db/node';
import pino from 'pino';
import { createApp } from '../app.ts';
import { apiConfigFromEnv, EnvError, parseEnv } from '../env.ts';
import { createInProcessHub } from '../hub/in-process-hub.ts';
import { sweep } from '../services/scheduler.ts';
import { bootstrapAdmin } from '../services/tokens.ts';

/** Starts the API on Node: embedded libSQL by default, an in-process long-poll hub. */
export async function startNodeServer(source: Record<string, string | undefined> = process.env) {
  const env = parseEnv(source);
  const logger = pino({ level: env.LOG_LEVEL, base: { app: 'api' } });
  let url = env.DATABASE_URL;
  if (!url) {
    const dir = resolve(env.SYNTHFLEET_DATA_DIR);
    mkdirSync(dir, { recursive: true });
    url = `file:${resolve(dir, 'synthfleet.db')}`;
  }
  const handle = await createDatabase({ url, authToken: env.DATABASE_AUTH_TOKEN });
  await migrateDatabase(handle);
  const { app, ctx } = createApp({
    db: handle.db,
    hub: createInProcessHub(),
    logger,
    config: apiConfigFromEnv(env),
    // The socket's peer: behind a proxy that is the proxy, so its sign-ins share one bucket.
    clientAddress: (c) => getConnInfo(c).remote.address,
  });
  const boot = await bootstrapAdmin(ctx, env.SYNTHFLEET_ADMIN_TOKEN);
  if (boot.secret) {
    // Printed once, on the first start with an empty database; only its hash is stored.
    process.stdout.write(
      `\nsynthfleet: created the first admin token (shown once, store it now):\n\n  ${boot.secret}\n\n`,
    );
  }
  // Our own server so the listen backlog can be raised: 10,000 agents reconnecting at once.
  const server = createServer({ ...SERVER_TIMEOUTS }, getRequestListener(app.fetch));
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen({ port: env.PORT, host: env.HOST, backlog: 4096 }, () => done());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  logger.info({ url: `http://${env.HOST}:${port}`, database: redactUrl(url) }, 'synthfleet api listening');

  let sweeping = false;
  const timer = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const result = await sweep(ctx);
      if (result.staleAgents > 0 || result.runsDeleted > 0 || result.remediesUnknown > 0) logger.info(result, 'sweep');
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'sweep failed; retrying next interval');
    } finally {
      sweeping = false;
    }
  }, env.SWEEP_INTERVAL_SECONDS * 1000);
  timer.unref();

  const close = async () => {
    clearInterval(timer);
    server.closeIdleConnections();
    await new Promise<void>((done) => {
      server.close(() => done());
      setTimeout(() => {
        server.closeAllConnections();
        done();
      }, 2000).unref();
    });
    handle.close();
  };
  return { server, port, close, ctx, logger };
}

/**
 * The process: starts the server, closes it on SIGINT/SIGTERM, and exits 2 with the message on a
 * bad configuration. No top-level await: the shipped bundle (scripts/build-api.ts) is CommonJS.
 */
export async function runNodeServer(): Promise<void> {
  try {
    const { close, logger } = await startNodeServer();
    let closing = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // `on`, not `once`: a second signal (a supervisor and its process group) must not kill mid-close.
      process.on(signal, () => {
        if (closing) return;
        closing = true;
        logger.info({ signal }, 'shutting down');
        void close().then(() => process.exit(0));
      });
    }
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`synthfleet api: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`synthfleet api: cannot start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}

if (import.meta.main) void runNodeServer();
