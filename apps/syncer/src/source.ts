import type { Checked } from './objects.ts';

/** Where a source sends what it sees. */
export type SourceSink = {
  /** A full list of one group in one namespace (null: every namespace). */
  replace(apiVersion: string, namespace: string | null, objects: readonly unknown[]): void;
  upsert(apiVersion: string, object: unknown): void;
  remove(apiVersion: string, namespace: string, name: string): void;
  /** Every scope has been listed once: a snapshot now would not delete anything by mistake. */
  ready(): void;
};

/** Writes an object's status; only sources backed by a cluster have one. */
export type StatusTarget = {
  write(object: Checked, status: Record<string, unknown>): Promise<void>;
};

export type Source = {
  describe: string;
  start(sink: SourceSink): void;
  stop(): Promise<void>;
  status?: StatusTarget;
};
