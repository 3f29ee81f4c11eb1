/**
 * `node bench/fleet-seed-file.ts DIR`: writes the benchmark's seeded fleet (bench/fleet.ts's scale,
 * the same environment variables) into DIR/synthfleet.db, migrated, for profiling a page by hand
 * or starting the API on it (`SYNTHFLEET_DATA_DIR=DIR npm start`).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDatabase } from '@synthfleet/db';
import { migrateDatabase } from '@synthfleet/db/node';
import { seedFleet } from '../test/support/seed-fleet.ts';
import { FLEET_SCALE } from './fleet.ts';

const dir = resolve(process.argv[2] ?? '.synthfleet-fleet');
mkdirSync(dir, { recursive: true });
const handle = await createDatabase({ url: `file:${join(dir, 'synthfleet.db')}` });
await migrateDatabase(handle);
const fleet = await seedFleet(handle.client, Date.now(), FLEET_SCALE);
handle.close();
process.stdout.write(
  `${fleet.clusters.length} clusters, ${fleet.agents} agents, ${fleet.tests} tests, ${fleet.runs} runs in ${join(dir, 'synthfleet.db')}\n`,
);
