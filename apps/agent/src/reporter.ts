import type { Backoff, RunResult } from '@synthfleet/contracts';
import { ApiCallError } from '@synthfleet/contracts/api-call-error';
import type { ApiClient } from './api-client.ts';
import type { Logger } from './logger.ts';
import type { Spool } from './spool.ts';

export type ReporterOptions = {
  spool: Spool;
  /** The API client's result call. */
  api: Pick<ApiClient, 'sendRuns'>;
  /** This agent's id once registered; runs wait (spooled) until there is one. */
  agentId: () => string | undefined;
  backoff: Backoff;
  logger: Logger;
  flushMs: number;
  batchMax?: number;
  /**
   * Called after every delivery attempt with what happened, for metrics. `rateLimited` counts runs
   * the API refused for now (429): they stay in the spool and go again after its Retry-After.
   */
  onDelivery?: (e: {
    delivered: number;
    duplicates: number;
    rejected: number;
    rateLimited?: number;
    ok: boolean;
  }) => void;
};

/**
 * Delivers results in order, at least once; the API drops duplicates by run id, so every run
 * lands exactly once. Runs wait in memory for at most one flush interval; when the API cannot
 * take them they go to the disk spool, and while the spool holds anything new runs queue behind it.
 */
export class Reporter {
  private queue: RunResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private retryAt = 0;
  private closed = false;
  private readonly options: Required<Omit<ReporterOptions, 'onDelivery'>> & Pick<ReporterOptions, 'onDelivery'>;

  constructor(options: ReporterOptions) {
    this.options = { batchMax: 500, ...options };
  }

  get pending(): number {
    return this.queue.length;
  }

  submit(run: RunResult): void {
    this.queue.push(run);
    if (this.retryAt > Date.now()) this.spillSoon();
    if (this.queue.length >= this.options.batchMax) this.flushSoon(0);
    else this.flushSoon(this.options.flushMs);
  }

  private spillTimer: NodeJS.Timeout | undefined;

  /** While the API is known to be down, runs go to disk within a flush interval, not at the next retry. */
  private spillSoon(): void {
    if (this.spillTimer || this.closed) return;
    this.spillTimer = setTimeout(() => {
      this.spillTimer = undefined;
      if (this.flushing || this.retryAt <= Date.now()) return;
      const held = this.queue.splice(0);
      this.options.spool
        .append(held)
        .catch((e) => this.options.logger.error({ err: String(e) }, 'cannot write the spool'));
    }, this.options.flushMs);
  }

  private flushSoon(ms: number): void {
    if (this.closed) return;
    const wait = Math.max(ms, this.retryAt - Date.now());
    if (this.timer && wait > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  /** One delivery pass (single flight): the spool oldest first, then what is in memory. */
  flush(): Promise<void> {
    this.flushing ??= this.deliver().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0 || !this.options.spool.empty) this.flushSoon(this.options.flushMs);
    });
    return this.flushing;
  }

  private async deliver(): Promise<void> {
    const hadFailed = this.options.backoff.failures > 0;
    let sent = 0;
    try {
      while (!this.options.spool.empty) {
        const runs = (await this.options.spool.peek()) ?? [];
        for (let i = 0; i < runs.length; i += this.options.batchMax)
          await this.sendChunk(runs.slice(i, i + this.options.batchMax));
        await this.options.spool.commit();
        sent += runs.length;
      }
      while (this.queue.length > 0) {
        const chunk = this.queue.slice(0, this.options.batchMax);
        await this.sendChunk(chunk);
        this.queue.splice(0, chunk.length);
        sent += chunk.length;
      }
      if (hadFailed) this.options.logger.info({ delivered: sent }, 'results delivered again after an outage');
      this.options.backoff.reset();
      this.retryAt = 0;
    } catch (err) {
      // Keep order and survive a restart: everything still in memory goes behind the spool.
      const held = this.queue.splice(0);
      await this.options.spool
        .append(held)
        .catch((e) => this.options.logger.error({ err: String(e) }, 'cannot write the spool'));
      // The API's own word on when to come back (a quota's Retry-After) wins over a shorter backoff.
      const asked = err instanceof ApiCallError ? (err.retryAfterMs ?? 0) : 0;
      const delay = Math.max(this.options.backoff.next(), asked);
      this.retryAt = Date.now() + delay;
      this.options.logger.warn(
        { err: (err as Error).message, spooled: this.options.spool.depth, retryInMs: delay },
        err instanceof ApiCallError && err.status === 429
          ? 'results refused for now by the API (rate limited); spooled'
          : 'results not delivered; spooled',
      );
    }
  }

  private async send(runs: RunResult[]): Promise<{ accepted: number; duplicates: number; rejected: number }> {
    const agentId = this.options.agentId();
    if (agentId === undefined) throw new ApiCallError(0, 'not registered yet');
    const r = await this.options.api.sendRuns({ agentId, runs });
    return { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected.length };
  }

  private async sendChunk(runs: RunResult[]): Promise<void> {
    try {
      const r = await this.send(runs);
      this.options.onDelivery?.({ delivered: r.accepted, duplicates: r.duplicates, rejected: r.rejected, ok: true });
      if (r.rejected > 0)
        this.options.logger.warn({ rejected: r.rejected }, 'the API rejected some runs (tests it no longer has)');
    } catch (err) {
      if (
        err instanceof ApiCallError &&
        !err.retryable &&
        err.status !== 401 &&
        err.status !== 403 &&
        err.status !== 404
      ) {
        if (err.status === 413 && runs.length > 1) {
          const half = Math.ceil(runs.length / 2);
          await this.sendChunk(runs.slice(0, half));
          await this.sendChunk(runs.slice(half));
          return;
        }
        // A batch the API refuses as malformed will never be taken: log it and move on.
        this.options.onDelivery?.({ delivered: 0, duplicates: 0, rejected: runs.length, ok: true });
        this.options.logger.error({ err: err.message, runs: runs.length }, 'the API refused a batch of runs; dropped');
        return;
      }
      const rateLimited = err instanceof ApiCallError && err.status === 429 ? runs.length : 0;
      this.options.onDelivery?.({ delivered: 0, duplicates: 0, rejected: 0, rateLimited, ok: false });
      throw err;
    }
  }

  /** Last delivery attempt on shutdown; what cannot be delivered in time stays in the spool. */
  async close(deadlineMs: number): Promise<void> {
    clearTimeout(this.timer);
    clearTimeout(this.spillTimer);
    this.retryAt = 0;
    const attempt = this.flush();
    const timeout = new Promise<void>((r) => setTimeout(r, deadlineMs).unref());
    await Promise.race([attempt, timeout]);
    this.closed = true;
    if (this.queue.length > 0) await this.options.spool.append(this.queue.splice(0));
  }
}
