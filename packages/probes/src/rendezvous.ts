import { nodeCrypto } from './util.ts';

function score(seed: string, id: string): number {
  return nodeCrypto().createHash('sha256').update(seed).update('\0').update(id).digest().readUInt32BE(0);
}

/**
 * Highest-random-weight (rendezvous) choice of at most `k` items for `seed`. Each agent keeps the
 * same peers while the fleet churns (an item leaving moves only the agents that had chosen it),
 * and every peer is chosen by about k others, so a mesh of N agents makes O(N·k) series.
 */
export function pickRendezvous<T>(seed: string, items: readonly T[], k: number, idOf: (item: T) => string): T[] {
  if (k <= 0) return [];
  return items
    .map((item) => ({ item, s: score(seed, idOf(item)), id: idOf(item) }))
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
    .slice(0, k)
    .map((x) => x.item);
}
