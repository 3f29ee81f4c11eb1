import { z } from 'zod';
import { Quorum } from './synthetic-test.ts';
import { Verdict } from './verdict.ts';

/**
 * A cluster selector of a fleet test: a cluster-name glob (`edge-*`) or a label selector
 * `key=glob` (`region=eu-*`) over the labels admins set on clusters. A cluster is selected when any
 * entry matches it.
 */
export const ClusterSelector = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^([a-z0-9*?.-]+|[A-Za-z0-9_./-]+=[^=]*)$/,
    'a cluster selector is a name glob (edge-*) or label=glob (region=eu-*)',
  );

export const FleetTestSelection = z.object({
  clusters: z.array(ClusterSelector).min(1, 'name at least one cluster selector').max(50),
  quorum: Quorum.optional(),
});

const globRe = (glob: string) =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** Whether a cluster is selected: its name matches a name glob, or a label a `key=glob` entry. */
export function clusterSelected(
  selectors: readonly string[],
  cluster: { name: string; labels: Readonly<Record<string, string>> },
): boolean {
  return selectors.some((s) => {
    const eq = s.indexOf('=');
    if (eq < 0) return globRe(s).test(cluster.name);
    const value = cluster.labels[s.slice(0, eq)];
    return value !== undefined && globRe(s.slice(eq + 1)).test(value);
  });
}

export const FleetTestClusterView = z.object({
  cluster: z.string(),
  state: Verdict,
  stateReason: z.string().nullable(),
  failingAgents: z.number().int(),
  assignedAgents: z.number().int(),
  failingSince: z.string().nullable(),
  lastRunAt: z.string().nullable(),
  lastFailureMessage: z.string().nullable(),
});

export const FleetTestView = z.object({
  namespace: z.string(),
  name: z.string(),
  revision: z.number().int(),
  plugin: z.string(),
  displayName: z.string().nullable(),
  clusters: z.array(z.string()).describe('The cluster selectors.'),
  quorum: z.union([z.number(), z.string()]).nullable().describe('Of clusters; null: all selected must fail.'),
  state: Verdict.describe('The fleet verdict from the selected clusters with the quorum.'),
  selected: z.array(FleetTestClusterView).describe("Each selected cluster's share and verdict, failing first."),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type FleetTestView = z.infer<typeof FleetTestView>;

export const FleetTestList = z.object({ fleetTests: z.array(FleetTestView) });

export const ClusterLabels = z.object({
  labels: z
    .record(
      z
        .string()
        .min(1)
        .max(63)
        .regex(/^[A-Za-z0-9_./-]+$/, 'label key is not valid'),
      z.string().max(63),
    )
    .refine((l) => Object.keys(l).length <= 50, 'at most 50 labels'),
});
