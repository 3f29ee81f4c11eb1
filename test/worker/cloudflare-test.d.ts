/** The part of the Workers Vitest integration's `cloudflare:test` module these tests use. */
declare module 'cloudflare:test' {
  export const SELF: {
    fetch(input: string | Request, init?: RequestInit): Promise<Response>;
  };
  export const env: unknown;
  export function createExecutionContext(): { waitUntil(p: Promise<unknown>): void };
  export function waitOnExecutionContext(ctx: unknown): Promise<void>;
  export function createScheduledController(options?: { scheduledTime?: Date; cron?: string }): unknown;
}
