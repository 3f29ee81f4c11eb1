/** One line of the benchmark table: a figure beside its baseline from the same run. */
export type BenchRow = {
  bench: string;
  metric: string;
  unit: string;
  value: number;
  baseline: number;
  baselineName: string;
  /** value / baseline, or its inverse when lower is better, so that > 1 always means "better". */
  higherIsBetter: boolean;
  target?: string;
  note?: string;
};

export function ratio(row: BenchRow): number {
  return row.higherIsBetter ? row.value / row.baseline : row.baseline / row.value;
}
