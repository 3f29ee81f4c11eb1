import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './scripts/summary-reporter.ts';

/** The API's route contract suite: it runs on both databases the API is deployed on. */
const CONTRACT_SUITE = ['apps/api/src/routes/*.test.ts', 'apps/api/src/app.test.ts'];

// Vitest requires a default export.
export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', 'test/worker/**'],
    // These shared machines stall for up to a second at a time: leave room so slowness is not failure.
    testTimeout: 60_000,
    // Hooks start real processes (API, Pushgateway), which a loaded machine can take minutes over.
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default', new SummaryReporter()],
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['packages/**/*.test.ts', 'apps/**/*.test.ts', 'test/**/*.test.ts'] },
      },
      {
        // The same suite with the database behind the libSQL server double (Hrana over HTTP through
        // @libsql/client's HTTP client), as the Worker entry reaches Turso: see the test harness.
        extends: true,
        test: { name: 'libsql-http', include: CONTRACT_SUITE, env: { SYNTHFLEET_TEST_DATABASE: 'hrana' } },
      },
    ],
  },
});
