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
  /**
   * For paired measurements (both loaded in the same rounds): the median of the per-round ratios,
   * which is the ratio reported. On a noisy machine it is steadier than a ratio of two medians,
   * because each round's noise hits both sides.
   */
  pairedRatio?: number;
};

export function ratio(row: BenchRow): number {
  if (row.pairedRatio !== undefined) return row.higherIsBetter ? row.pairedRatio : 1 / row.pairedRatio;
  return row.higherIsBetter ? row.value / row.baseline : row.baseline / row.value;
}

/** The middle value (the upper one of an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
