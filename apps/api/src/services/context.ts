import type { AssignedTest, Peer } from '@synthfleet/contracts';
import type { Database } from '@synthfleet/db';
import type { AssignmentHub } from '../hub/hub.ts';
import type { Clock } from '../lib/clock.ts';
import type { KeyedMutex } from '../lib/keyed-mutex.ts';
import type { Logger } from '../lib/logger.ts';

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
};

export const defaultApiConfig: ApiConfig = {
  agentDeadlineMs: 60_000,
  maxPollWaitMs: 30_000,
  retentionMs: 14 * 24 * 3_600_000,
  maxBodyBytes: 1024 * 1024,
  maxBatchBodyBytes: 8 * 1024 * 1024,
  staleResultMs: 5 * 60_000,
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
  /** Assignment bodies by fingerprint, shared by every agent that runs the same set. */
  assignmentCache: Map<string, AssignmentBody>;
  /**
   * Reads of an assignment under way, by the fingerprint the reading agent expects: agents woken
   * together by one change wait for the one read instead of each making their own.
   */
  assignmentReads: Map<string, Promise<{ hash: string; body: AssignmentBody }>>;
};

export type AssignmentBody = { tests: AssignedTest[]; peers: Peer[] };

export type Principal = {
  tokenId: string;
  role: 'admin' | 'viewer' | 'cluster';
  cluster: string | null;
};
