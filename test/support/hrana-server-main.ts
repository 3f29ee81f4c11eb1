/**
 * The libSQL server double as a process of its own (benchmarks: the load generator must not share
 * its event loop). Env: HRANA_PATH (database file), HRANA_TOKEN. Prints `{"url": …}` once ready.
 */
import { startHranaServer } from './hrana-server.ts';

const path = process.env.HRANA_PATH;
if (!path) {
  process.stderr.write('HRANA_PATH is required: the database file to serve\n');
  process.exit(2);
}
const server = await startHranaServer({ path, authToken: process.env.HRANA_TOKEN || undefined });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
