import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './scripts/summary-reporter.ts';
import { WORKER_DATABASE_TOKEN } from './test/worker/global-setup.ts';

/** The API's route contract suite: on an embedded file, over HTTP to a libSQL server, and inside workerd. */
const CONTRACT_SUITE = ['apps/api/src/routes/*.test.ts', 'apps/api/src/app.test.ts'];

// Vitest requires a default export.
export default defineConfig({
  test: {
    exclude: ['**/node_modules/**'],
    // These shared machines stall for up to a second at a time: leave room so slowness is not failure.
    testTimeout: 60_000,
    // Hooks start real processes (API, Pushgateway), which a loaded machine can take minutes over.
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default', new SummaryReporter()],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['packages/**/*.test.ts', 'apps/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/worker/**'],
        },
      },
      {
        // The same suite with the database behind the libSQL server double (Hrana over HTTP through
        // @libsql/client's HTTP client), as the Worker entry reaches Turso: see the test harness.
        extends: true,
        test: { name: 'libsql-http', include: CONTRACT_SUITE, env: { SYNTHFLEET_TEST_DATABASE: 'hrana' } },
      },
      {
        // The Worker entry inside workerd, with the libSQL server double started in Node by the
        // global setup (which also migrates it with drizzle-kit, as a deploy does).
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                DATABASE_URL: inject<string>('databaseUrl'),
                DATABASE_AUTH_TOKEN: WORKER_DATABASE_TOKEN,
                SYNTHFLEET_ADMIN_TOKEN: 'worker-test-admin-token-0123456789',
                LOG_LEVEL: 'warn',
              },
            },
          })),
        ],
        test: {
          name: 'workerd',
          // The Worker's own tests, and the route contract suite inside the Workers runtime.
          include: ['test/worker/**/*.test.ts', ...CONTRACT_SUITE],
          globalSetup: ['test/worker/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
