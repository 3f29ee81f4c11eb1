/**
 * Timeouts for every Node HTTP server we run (the API, the agent's heartbeat server, the syncer's
 * health server), passed to `http.createServer`. A client must send its whole header block within
 * `headersTimeout` and its whole request within `requestTimeout`, or Node answers 408 and closes
 * the connection: 200 clients trickling headers byte by byte no longer hold 200 sockets forever.
 * Node checks every `connectionsCheckingInterval` (its default of 30 s would let them linger).
 * A long-poll is not cut short: it is a GET whose request is complete at once; only the answer
 * waits, and these bound receiving the request, not sending the answer.
 */
export const SERVER_TIMEOUTS = Object.freeze({
  headersTimeout: 10_000,
  /** Generous for result batches and heartbeat uploads over a slow edge link. */
  requestTimeout: 120_000,
  connectionsCheckingInterval: 1_000,
});

/** Idle keep-alive connections stay open this long (beyond typical 60 s load-balancer idle timeouts). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
