import {
  ClusterName,
  DnsLabel,
  DnsSubdomain,
  Importance,
  queryInt,
  TestSource,
  TestState,
} from '@synthfleet/contracts';
import { z } from 'zod';

export const ClusterParams = z.object({ cluster: ClusterName });
export const TestParams = z.object({ cluster: ClusterName, namespace: DnsLabel, name: DnsSubdomain });
export const AgentParams = z.object({ agentId: z.string().min(1).max(128) });

export const PollQuery = z.object({
  version: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
  wait: queryInt(0, 300).default(0),
  /** The agent's undelivered results and dropped count, shown on the dashboard. */
  spool: queryInt(0, 1_000_000_000).optional(),
  dropped: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
});

export const TestListQuery = z.object({
  cluster: ClusterName.optional(),
  status: TestState.optional(),
  label: z.string().max(200).optional(),
  plugin: z.string().max(64).optional(),
  importance: Importance.optional(),
  limit: queryInt(1, 500).default(100),
  cursor: z.string().max(200).optional(),
});

export const RunListQuery = z.object({
  limit: queryInt(1, 500).default(50),
  cursor: z.string().max(400).optional(),
  agent: z.string().max(128).optional(),
});

export const RemedyListQuery = z.object({ limit: queryInt(1, 500).default(50) });

export const ClusterQuery = z.object({ cluster: ClusterName.optional() });

/** A syncer names its source on every write, so its snapshots remove only what it declared. */
export const SourceQuery = z.object({
  source: TestSource.default('api').describe('The syncer source declaring the test; omitted: `api`.'),
});
