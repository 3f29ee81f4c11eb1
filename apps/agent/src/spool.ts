import { join } from 'node:path';
import type { RunResult } from '@synthfleet/contracts';
import { appendFile, mkdir, readdir, readFile, stat, unlink } from './fs-async.ts';
import { schemas } from './wire.ts';

const SEGMENT = /^seg-(\d{16})\.jsonl$/;

type Segment = { seq: number; file: string; bytes: number; runs: number };

/**
 * Results the API could not take yet, on disk, oldest first: JSON lines in numbered segment files.
 * Bounded by `maxBytes`: when full, the oldest segments go first and the runs in them are counted
 * as dropped. Survives restarts; a line cut short by a crash is skipped and counted as dropped.
 */
export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  private segments: Segment[] = [];
  private droppedRuns = 0;
  private onDrop: (runs: number) => void;
  /** Appends, reads and commits run one at a time: a reader never sees a segment mid-write. */
  private queue: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  constructor(dir: string, maxBytes: number, onDrop: (runs: number) => void = () => {}) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    // Sixteen segments or more, so dropping one loses a small share of what is kept.
    this.segmentBytes = Math.max(16 * 1024, Math.floor(maxBytes / 16));
    this.onDrop = onDrop;
  }

  /** Finds the segments a previous run of the agent left behind. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => SEGMENT.test(n)).sort();
    this.segments = [];
    for (const name of names) {
      const file = join(this.dir, name);
      const text = await readFile(file, 'utf8');
      const runs = text.split('\n').filter((l) => l.trim() !== '').length;
      this.segments.push({ seq: Number(SEGMENT.exec(name)?.[1]), file, bytes: (await stat(file)).size, runs });
    }
  }

  get depth(): number {
    return this.segments.reduce((n, s) => n + s.runs, 0);
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  get dropped(): number {
    return this.droppedRuns;
  }

  get empty(): boolean {
    return this.segments.length === 0;
  }

  append(runs: readonly RunResult[]): Promise<void> {
    if (runs.length === 0) return Promise.resolve();
    return this.serial(() => this.appendNow(runs));
  }

  private async appendNow(runs: readonly RunResult[]): Promise<void> {
    const text = `${runs.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const bytes = Buffer.byteLength(text);
    let tail = this.segments.at(-1);
    if (!tail || tail.bytes + bytes > this.segmentBytes || tail === this.reading) {
      const seq = (tail?.seq ?? 0) + 1;
      tail = { seq, file: join(this.dir, `seg-${String(seq).padStart(16, '0')}.jsonl`), bytes: 0, runs: 0 };
      this.segments.push(tail);
    }
    await appendFile(tail.file, text);
    tail.bytes += bytes;
    tail.runs += runs.length;
    await this.enforceBound();
  }

  private reading: Segment | undefined;

  /**
   * The oldest segment's runs, for delivery; call `commit()` once they are delivered. A segment
   * being read receives no more appends.
   */
  peek(): Promise<RunResult[] | undefined> {
    return this.serial(() => this.peekNow());
  }

  private async peekNow(): Promise<RunResult[] | undefined> {
    const head = this.segments[0];
    if (!head) return undefined;
    this.reading = head;
    let text: string;
    try {
      text = await readFile(head.file, 'utf8');
    } catch {
      this.segments.shift();
      this.drop(head.runs);
      return this.peekNow();
    }
    const { RunResult } = await schemas();
    const out: RunResult[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(RunResult.parse(JSON.parse(line)));
      } catch {
        bad++;
      }
    }
    if (bad > 0) this.drop(bad);
    return out;
  }

  /** Removes the segment returned by the last `peek()`. */
  commit(): Promise<void> {
    return this.serial(() => this.commitNow());
  }

  private async commitNow(): Promise<void> {
    const head = this.reading;
    this.reading = undefined;
    if (!head) return;
    this.segments = this.segments.filter((s) => s !== head);
    await unlink(head.file).catch(() => {});
  }

  private drop(runs: number): void {
    if (runs <= 0) return;
    this.droppedRuns += runs;
    this.onDrop(runs);
  }

  private async enforceBound(): Promise<void> {
    while (this.bytes > this.maxBytes && this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      if (oldest === this.reading) this.reading = undefined;
      this.segments.shift();
      await unlink(oldest.file).catch(() => {});
      this.drop(oldest.runs);
    }
  }
}
