import type { AssignedTest, Peer } from '@synthfleet/contracts';
import type { Database } from '@synthfleet/db';
import type { AssignmentHub } from '../hub/hub.ts';
import type { Clock } from '../lib/clock.ts';
import type { KeyedMutex } from '../lib/keyed-mutex.ts';
import type { Logger } from '../lib/logger.ts';
import type { RateLimiter } from '../lib/rate-limit.ts';
import type { AssignmentCaches } from './assignments.ts';
import type { ApiCounters } from './control-metrics.ts';

export type ApiConfig = {
  /** An agent that has not polled for this long is stale and loses its `$` tests. */
  agentDeadlineMs: number;
  /** Upper bound of one long-poll; kept well under the deadline so a waiting agent stays live. */
  maxPollWaitMs: number;
  /** Run history older than this is deleted by the sweep. */
  retentionMs: number;
  maxBodyBytes: number;
  maxBatchBodyBytes: number;
  /**
   * The dashboard shows a test as a problem once it has gone this long without a result (or two
   * periods plus a run timeout, if longer): kube-e2etestapp's TIME_TO_REPORT_PROBLEM.
   */
  staleResultMs: number;
  /** Write requests per second per token (burst: two seconds' worth); 0 turns the quota off. */
  tokenWritesPerSecond: number;
  /** Runs per minute one agent may send (burst: a minute's worth); 0: off. */
  agentRunsPerMinute: number;
  /** Runs per minute all agents of one token may send together; 0: off. */
  tokenRunsPerMinute: number;
  /** Dashboard sign-in attempts per minute per client address; 0: off. */
  signInsPerMinute: number;
  /** A run larger than this (as JSON) is rejected, not stored. */
  maxRunBytes: number;
  /**
   * SH_ANONYMOUS_CLUSTER: synthetic-heart's GET routes answer without a token, for this cluster
   * only, with synthetic-heart's CORS headers (lib/synthetic-heart-compat.ts). Off (null) by default.
   */
  shAnonymousCluster: string | null;
  /** A test's Run now may be asked again only after this long (429 before). */
  runNowIntervalMs: number;
  /** BADGES_PUBLIC: every test's status badge answers without a token (else only spec.badge.public ones). */
  badgesPublic: boolean;
};

export const defaultApiConfig: ApiConfig = {
  agentDeadlineMs: 60_000,
  maxPollWaitMs: 30_000,
  retentionMs: 14 * 24 * 3_600_000,
  maxBodyBytes: 1024 * 1024,
  maxBatchBodyBytes: 8 * 1024 * 1024,
  staleResultMs: 5 * 60_000,
  // Sized for a 5,000-node cluster on one token: each node sends about a batch a second and
  // 2 runs a second (20 tests every 10 s), so the token needs ~5,000 writes/s and ~600,000
  // runs/min, while one agent stays 10x under its own bound.
  tokenWritesPerSecond: 6_000,
  agentRunsPerMinute: 1_200,
  tokenRunsPerMinute: 900_000,
  signInsPerMinute: 10,
  maxRunBytes: 128 * 1024,
  shAnonymousCluster: null,
  runNowIntervalMs: 10_000,
  badgesPublic: false,
};

/** Everything a service needs; built once by createApp. */
export type ServiceContext = {
  db: Database;
  hub: AssignmentHub;
  clock: Clock;
  logger: Logger;
  config: ApiConfig;
  random: () => number;
  exclusive: KeyedMutex;
  /** The writers' quotas' counters (see services/quotas.ts). */
  limiter: RateLimiter;
  /** The assignment bodies and reads shared by agents that run the same set (services/assignments.ts). */
  assignments: AssignmentCaches;
  /** This process's ingest and long-poll counters, for /metrics. */
  counters: ApiCounters;
};

export type AssignmentBody = { tests: AssignedTest[]; peers: Peer[] };

export type Principal = {
  tokenId: string;
  /** `metrics`: may read /metrics and nothing else. */
  role: 'admin' | 'viewer' | 'cluster' | 'metrics';
  cluster: string | null;
  /** The token-less synthetic-heart reader (SH_ANONYMOUS_CLUSTER): may read its cluster, never write. */
  readOnly?: boolean;
};
