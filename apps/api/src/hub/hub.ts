/** What a woken poll learns: the agent's new assignment version and fingerprint, when the waker knows them. */
export type Wake = { version?: number; hash?: string };

export type Subscription = {
  /** Resolves with the wake, or `undefined` when the wait ran out or was cancelled. */
  readonly done: Promise<Wake | undefined>;
  cancel(): void;
};

/**
 * Holds agents' long-polls and wakes them when their assignments change. The Node entry keeps an
 * in-process hub; the Worker entry routes through a Durable Object per cluster.
 */
export type AssignmentHub = {
  /**
   * Subscribe before reading the current version, so a change in between is not missed. `known` is
   * the version the agent holds: a hub whose subscriptions register asynchronously (a Durable
   * Object) answers at once when it has already seen a wake past it.
   */
  subscribe(cluster: string, agentId: string, timeoutMs: number, known?: number): Subscription;
  wake(cluster: string, wakes: ReadonlyMap<string, Wake>): Promise<void>;
  /** Number of polls held by this hub (this process). */
  held(): number;
};
