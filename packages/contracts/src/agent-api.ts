import { z } from 'zod';
import { ClusterName, DnsLabel, DnsSubdomain } from './names.ts';
import { RUN_STATUSES } from './run-status.ts';
import { SyntheticTestSpec } from './synthetic-test.ts';

/*
 * The bodies the agent sends and receives. Kept apart from the dashboard's and syncer's bodies so
 * the agent's bundle builds only these schemas (the package is marked free of side effects).
 */

const AgentLabels = z
  .record(z.string().min(1).max(317), z.string().max(253))
  .refine((o) => Object.keys(o).length <= 100, 'at most 100 labels');

export const RegisterAgentRequest = z
  .object({
    cluster: ClusterName.optional().describe('Only for admin tokens; a cluster token implies its cluster.'),
    node: DnsSubdomain,
    pod: z.string().min(1).max(253).optional(),
    podNamespace: DnsLabel.optional(),
    version: z.string().min(1).max(64),
    capabilities: z.array(z.string().min(1).max(64)).max(100).default([]),
    heartbeatUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
    podLabels: AgentLabels.optional().describe("The agent pod's labels (the downward-API labels file)."),
    matchTestNamespaces: z
      .array(DnsLabel)
      .max(200)
      .optional()
      .describe('Run only tests of these namespaces (synthetic-heart agent setting); empty: all.'),
    matchTestLabels: AgentLabels.optional().describe('Run only tests carrying all these labels with these values.'),
  })
  .strict();
export type RegisterAgentRequest = z.infer<typeof RegisterAgentRequest>;

export const RegisterAgentResponse = z.object({
  agentId: z.string(),
  cluster: z.string(),
  pollWaitSeconds: z.number().int(),
  deadlineSeconds: z.number().int(),
});
export type RegisterAgentResponse = z.infer<typeof RegisterAgentResponse>;

export const Peer = z.object({
  agentId: z.string(),
  node: z.string(),
  heartbeatUrl: z.string(),
});
export type Peer = z.infer<typeof Peer>;

export const AssignedTest = z.object({
  key: z.string().describe('cluster/namespace/name'),
  namespace: z.string(),
  name: z.string(),
  revision: z.number().int().describe('Bumped by the API whenever the spec changes.'),
  apiVersion: z.string(),
  spec: SyntheticTestSpec,
  runRequest: z
    .object({ id: z.string(), requestedAt: z.string() })
    .optional()
    .describe('The newest "Run now" request: an agent runs the test once more when the id is new to it.'),
});
export type AssignedTest = z.infer<typeof AssignedTest>;

export const Assignment = z.object({
  agentId: z.string(),
  version: z.number().int(),
  tests: z.array(AssignedTest),
  peers: z.array(Peer).describe('Live agents of the same cluster that serve heartbeats, for mesh tests.'),
});
export type Assignment = z.infer<typeof Assignment>;

export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

export const Gauge = z.object({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'gauge name must be a Prometheus metric name'),
  help: z.string().max(500).optional(),
  value: z.number(),
  labels: z
    .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'label name is not valid'), z.string().max(500))
    .optional(),
});
export type Gauge = z.infer<typeof Gauge>;

export const RunResult = z
  .object({
    runId: z
      .string()
      .min(8)
      .max(128)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'runId may only hold letters, digits, "_", ".", ":" and "-"'),
    namespace: DnsLabel,
    name: DnsSubdomain,
    revision: z.number().int().nonnegative().optional(),
    status: RunStatus,
    marks: z.number().int().nonnegative(),
    maxMarks: z.number().int().nonnegative(),
    startTime: z.iso.datetime({ offset: true }),
    endTime: z.iso.datetime({ offset: true }),
    details: z.record(z.string(), z.string().max(64 * 1024)).optional(),
    gauges: z.array(Gauge).max(200).optional(),
    trigger: z.object({ type: z.enum(['timer', 'test', 'manual']), test: z.string().max(300).optional() }).optional(),
  })
  .strict()
  .superRefine((run, ctx) => {
    if (run.marks > run.maxMarks) {
      ctx.addIssue({ code: 'custom', path: ['marks'], message: 'marks must not exceed maxMarks' });
    }
    if (Date.parse(run.endTime) < Date.parse(run.startTime)) {
      ctx.addIssue({ code: 'custom', path: ['endTime'], message: 'endTime is before startTime' });
    }
  });
export type RunResult = z.infer<typeof RunResult>;

export const MAX_RUNS_PER_BATCH = 1000;

export const RunBatch = z
  .object({
    agentId: z.string().min(1).max(128),
    runs: z.array(RunResult).min(1, 'a batch needs at least one run').max(MAX_RUNS_PER_BATCH),
  })
  .strict();
export type RunBatch = z.infer<typeof RunBatch>;

export const RunBatchResponse = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.array(z.object({ runId: z.string(), reason: z.string() })),
});
export type RunBatchResponse = z.infer<typeof RunBatchResponse>;
