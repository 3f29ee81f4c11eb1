import { readFileSync } from 'node:fs';
import { errorMessage } from '@synthfleet/probes/util';
import type { Logger } from './logger.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

type Streak = { revision: number; failures: number };

/**
 * Each assigned test's consecutive failures on this agent, by `namespace/name`, kept in a file
 * (written atomically, one write at a time) so an agent restart does not start them from zero. A
 * new revision of a test starts its streak afresh.
 */
export class FailureStreaks {
  private readonly streaks = new Map<string, Streak>();
  private readonly file: string | undefined;
  private readonly logger: Logger;
  private saving: Promise<void> | undefined;
  private dirty = false;

  constructor(file: string | undefined, logger: Logger) {
    this.file = file;
    this.logger = logger;
    if (file) this.load(file);
  }

  /** Counts one more failure of `key` at `revision` and answers the streak's length. */
  fail(key: string, revision: number): number {
    const last = this.streaks.get(key);
    const failures = (last?.revision === revision ? last.failures : 0) + 1;
    this.streaks.set(key, { revision, failures });
    this.save();
    return failures;
  }

  /** Ends `key`'s streak (a pass, a test without a remedy, a test no longer here). */
  forget(key: string): void {
    if (this.streaks.delete(key)) this.save();
  }

  /** Streaks saved by an earlier run of this agent; anything unreadable is ignored (start from zero). */
  private load(file: string): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return;
    }
    if (!saved || typeof saved !== 'object') return;
    for (const [key, v] of Object.entries(saved as Record<string, unknown>)) {
      const { revision, failures } = (v ?? {}) as Partial<Streak>;
      if (Number.isInteger(revision) && Number.isInteger(failures) && (failures as number) > 0)
        this.streaks.set(key, { revision: revision as number, failures: failures as number });
    }
  }

  /** Writes the streaks (atomically, one write at a time; changes meanwhile make one more). */
  private save(): void {
    const file = this.file;
    if (!file) return;
    this.dirty = true;
    if (this.saving) return;
    this.saving = (async () => {
      while (this.dirty) {
        this.dirty = false;
        try {
          await writeFileAtomic(file, JSON.stringify(Object.fromEntries(this.streaks)));
        } catch (err) {
          this.logger.warn({ file, err: errorMessage(err) }, 'cannot save the remedy streaks');
        }
      }
    })().finally(() => {
      this.saving = undefined;
    });
  }

  /** Resolves once the streaks on disk are the current ones (tests, shutdown). */
  async saved(): Promise<void> {
    while (this.saving) await this.saving;
  }
}
