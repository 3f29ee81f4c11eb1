import { defineConfig } from 'drizzle-kit';

// drizzle-kit requires a default export.
export default defineConfig({
  dialect: 'turso',
  schema: './packages/db/src/schema/index.ts',
  out: './packages/db/migrations',
  dbCredentials: {
    url: process.env.DATABASE_URL ?? 'file:.synthfleet/synthfleet.db',
    authToken: process.env.DATABASE_AUTH_TOKEN,
  },
});
