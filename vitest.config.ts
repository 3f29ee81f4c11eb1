import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './scripts/summary-reporter.ts';

// Vitest requires a default export.
export default defineConfig({
  test: {
    include: ['packages/**/*.test.ts', 'apps/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/worker/**'],
    // These shared machines stall for up to a second at a time: leave room so slowness is not failure.
    testTimeout: 60_000,
    // Hooks start real processes (API, Pushgateway), which a loaded machine can take minutes over.
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default', new SummaryReporter()],
  },
});
