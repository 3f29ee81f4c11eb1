import type { Clock } from './clock.ts';

/** `limit` units per `perMs`, of which up to `burst` may come at once (at least one request's cost). */
export type Quota = { limit: number; perMs: number; burst: number };

/** A quota per second or per minute, with a burst of one window's worth (0 turns it off). */
export function quota(limit: number, per: 'second' | 'minute', burst = limit): Quota | undefined {
  if (limit <= 0) return undefined;
  return { limit, perMs: per === 'second' ? 1000 : 60_000, burst: Math.max(burst, 1) };
}

type Bucket = { tokens: number; at: number };

/**
 * Token buckets by key, in memory: each key refills at its quota's rate up to its burst. Counters
 * live in this process (on Workers: this isolate), so the limits hold per API process; they bound
 * what one writer can make one process store, which is what protects the database and the fleet
 * view. At most `maxKeys` buckets are kept: past that the oldest are dropped (a dropped bucket
 * starts full again, so the worst case is one extra burst for a key that was idle longest).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  private readonly clock: Clock;
  private readonly maxKeys: number;

  constructor(clock: Clock, maxKeys = 200_000) {
    this.clock = clock;
    this.maxKeys = maxKeys;
  }

  /**
   * Takes `cost` from `key`'s bucket and answers 0, or takes nothing and answers how many ms until
   * it could. A cost above the burst is taken once the bucket is full, so a large batch is slowed,
   * never refused forever.
   */
  take(key: string, cost: number, q: Quota | undefined): number {
    const wait = this.waitFor(key, cost, q);
    if (wait === 0) this.pay(key, cost, q);
    return wait;
  }

  /** How many ms until `key`'s bucket could pay `cost`: 0 if it can now. Takes nothing. */
  waitFor(key: string, cost: number, q: Quota | undefined): number {
    if (!q || cost <= 0) return 0;
    const bucket = this.refill(key, q, this.clock.now());
    const need = Math.min(cost, q.burst);
    if (bucket.tokens >= need) return 0;
    return Math.max(1, Math.ceil(((need - bucket.tokens) * q.perMs) / q.limit - 1e-9));
  }

  /** Takes `cost` from `key`'s bucket whatever it holds (after waitFor said it can). */
  pay(key: string, cost: number, q: Quota | undefined): void {
    if (!q || cost <= 0) return;
    this.refill(key, q, this.clock.now()).tokens -= cost;
  }

  private refill(key: string, q: Quota, now: number): Bucket {
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(q.burst, b.tokens + ((now - b.at) * q.limit) / q.perMs);
      b.at = now;
      // Most recently used last: the first keys in the map are the idlest.
      this.buckets.delete(key);
      this.buckets.set(key, b);
      return b;
    }
    if (this.buckets.size >= this.maxKeys) {
      for (const k of this.buckets.keys()) {
        this.buckets.delete(k);
        if (this.buckets.size < this.maxKeys * 0.9) break;
      }
    }
    b = { tokens: q.burst, at: now };
    this.buckets.set(key, b);
    return b;
  }
}
