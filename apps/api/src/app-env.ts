import type { Principal } from './services/context.ts';

/** Hono's per-request variables for this app. */
export type AppEnv = {
  Variables: {
    principal: Principal;
    requestId: string;
  };
};
