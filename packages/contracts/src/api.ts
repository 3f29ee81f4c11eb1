import { z } from 'zod';
import { Gauge, RunStatus } from './agent-api.ts';
import { ClusterName } from './names.ts';
import { Availability, SloStatus } from './slo.ts';
import { SyntheticTestSpec } from './synthetic-test.ts';
import { Verdict } from './verdict.ts';

/** `metrics` may read /metrics and nothing else (a Prometheus scrape credential). */
export const Role = z.enum(['admin', 'viewer', 'cluster', 'metrics']);
export type Role = z.infer<typeof Role>;

export const CreateTokenRequest = z
  .object({
    role: Role,
    cluster: ClusterName.optional(),
    name: z.string().min(1).max(100).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.role === 'cluster' && body.cluster === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'a cluster token needs a cluster' });
    }
    if (body.role !== 'cluster' && body.cluster !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['cluster'], message: `an ${body.role} token is not bound to a cluster` });
    }
  });
export type CreateTokenRequest = z.infer<typeof CreateTokenRequest>;

export const TokenInfo = z.object({
  id: z.string(),
  role: Role,
  cluster: z.string().nullable(),
  name: z.string().nullable(),
  createdAt: z.string(),
});
export type TokenInfo = z.infer<typeof TokenInfo>;

export const CreateTokenResponse = TokenInfo.extend({
  token: z.string().describe('The secret. Shown once; only its hash is stored.'),
});
export type CreateTokenResponse = z.infer<typeof CreateTokenResponse>;

/** Who declared a test: a syncer's source, or `api` for a PUT that names none. */
export const TestSource = z
  .string()
  .regex(/^[a-z0-9][a-z0-9:._/-]{0,99}$/, 'source must be lower-case letters, digits and ":._/-", at most 100');

export const SnapshotRequest = z
  .object({
    items: z.array(z.unknown()).max(10_000),
    source: TestSource.default('syncer').describe(
      'The syncer source the snapshot is of: it removes only the missing tests this source owns.',
    ),
    rejected: z
      .array(
        z.object({
          namespace: z.string().min(1).max(63),
          name: z.string().min(1).max(253),
          reason: z.string().min(1).max(4000),
        }),
      )
      .max(10_000)
      .default([])
      .describe(
        'Objects the source holds that are not valid: their last valid revisions keep running, marked with the reason.',
      ),
  })
  .strict();
export type SnapshotRequest = z.infer<typeof SnapshotRequest>;

export const SnapshotResponse = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  deleted: z.number().int(),
  kept: z.number().int().describe('Tests another source owns (another syncer, or the API), left alone.'),
  rejected: z.number().int().describe('Invalid objects recorded; a test they edit keeps its last valid revision.'),
});
export type SnapshotResponse = z.infer<typeof SnapshotResponse>;

export const UpsertTestResponse = z.object({
  key: z.string(),
  revision: z.number().int(),
  changed: z.boolean(),
  created: z.boolean(),
});
export type UpsertTestResponse = z.infer<typeof UpsertTestResponse>;

export const WhoAmI = z.object({
  tokenId: z.string(),
  role: Role,
  cluster: z.string().nullable().describe('The cluster a cluster token acts for; null for other roles.'),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

/** A test's verdict (verdict.ts): the same on every surface. */
export const TestState = Verdict;
export type TestState = z.infer<typeof TestState>;

export const AgentState = z.enum(['live', 'stale']);
export type AgentState = z.infer<typeof AgentState>;

export const AgentView = z.object({
  agentId: z.string(),
  cluster: z.string(),
  node: z.string(),
  pod: z.string().nullable(),
  podNamespace: z.string().nullable(),
  podLabels: z.record(z.string(), z.string()).describe("The agent pod's labels, as it reported them."),
  matchTestNamespaces: z.array(z.string()).describe('It runs only tests of these namespaces (empty: all).'),
  matchTestLabels: z.record(z.string(), z.string()).describe('It runs only tests carrying these labels.'),
  version: z.string(),
  capabilities: z.array(z.string()),
  state: AgentState,
  lastPollAt: z.string().nullable(),
  registeredAt: z.string(),
  assignmentVersion: z.number().int(),
  spoolDepth: z.number().int().nullable().describe('Undelivered results the agent holds, as it last reported.'),
  resultsDropped: z.number().int().nullable().describe('Results the agent dropped since it started (spool full).'),
});
export type AgentView = z.infer<typeof AgentView>;

export const LatestState = z.object({
  agentId: z.string(),
  node: z.string().nullable(),
  runId: z.string(),
  status: RunStatus,
  marks: z.number().int(),
  maxMarks: z.number().int(),
  passRatio: z.number(),
  startTime: z.string(),
  endTime: z.string(),
  durationMs: z.number(),
  consecutiveFailures: z.number().int(),
  lastFailedRunId: z.string().nullable(),
  agentState: z
    .enum(['live', 'stale'])
    .nullable()
    .describe("The agent's own state now: a stale agent's latest result is old news, whatever it says."),
});
export type LatestState = z.infer<typeof LatestState>;

export const TestSummary = z.object({
  key: z.string(),
  cluster: z.string(),
  namespace: z.string(),
  name: z.string(),
  apiVersion: z.string(),
  plugin: z.string(),
  displayName: z.string().nullable(),
  importance: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  revision: z.number().int(),
  state: TestState,
  stateReason: z.string().nullable().describe('Why it is stale, in words (null otherwise).'),
  passingAgents: z.number().int(),
  failingAgents: z.number().int(),
  assignedAgents: z.number().int(),
  lastRunAt: z.string().nullable(),
  failingSince: z.string().nullable(),
  lastFailureMessage: z.string().nullable(),
  source: z.string().describe("Who declared it: a syncer's source (SYNCER_SOURCE) or `api`."),
  rejectedEdit: z
    .object({ reason: z.string(), since: z.string() })
    .nullable()
    .describe('The newest edit the API refused, with why: the last valid revision keeps running.'),
});
export type TestSummary = z.infer<typeof TestSummary>;

export const TestDetail = TestSummary.extend({
  spec: SyntheticTestSpec,
  generation: z.number().int().nullable(),
  agents: z.array(LatestState),
  assignedTo: z.array(z.object({ agentId: z.string(), node: z.string() })),
  placementNote: z
    .string()
    .nullable()
    .describe('Why agents the selectors pick do not run it (they lack the plugin), or null.'),
  availability: z
    .record(z.string(), Availability)
    .describe('Runs passed / counted over 1h, 24h, 7d and 30d, from aggregates kept as results arrive.'),
  slo: SloStatus.nullable().describe("spec.slo's status: availability over its window, budget left, burn rates."),
  maintenance: z
    .object({ active: z.boolean(), start: z.string(), end: z.string(), reason: z.string().nullable() })
    .nullable()
    .describe('The open or next maintenance window over the test.'),
  runRequest: z
    .object({ id: z.string(), requestedAt: z.string() })
    .nullable()
    .describe('The newest "Run now" request.'),
});
export type TestDetail = z.infer<typeof TestDetail>;

/** One test's roll-up as the syncer writes it back to the object's status. */
export const TestRollup = TestSummary.pick({
  namespace: true,
  name: true,
  revision: true,
  state: true,
  stateReason: true,
  passingAgents: true,
  failingAgents: true,
  assignedAgents: true,
  lastRunAt: true,
  failingSince: true,
  lastFailureMessage: true,
}).extend({
  generation: z.number().int().nullable().describe('The metadata.generation of the object last stored.'),
  nodes: z.array(z.string()).describe('Nodes of the agents the test is assigned to, sorted.'),
});
export type TestRollup = z.infer<typeof TestRollup>;

export const RollupList = z.object({
  cluster: z.string(),
  generatedAt: z.string(),
  tests: z.array(TestRollup),
});
export type RollupList = z.infer<typeof RollupList>;

export const RunView = z.object({
  runId: z.string(),
  agentId: z.string(),
  revision: z.number().int().nullable().describe('The test revision the agent ran, when it said.'),
  status: RunStatus,
  marks: z.number().int(),
  maxMarks: z.number().int(),
  startTime: z.string(),
  endTime: z.string(),
  durationMs: z.number(),
  details: z.record(z.string(), z.string()),
  gauges: z.array(Gauge),
  trigger: z
    .object({ type: z.string(), test: z.string().optional() })
    .nullable()
    .describe('What started the run: its timer, a test, or `manual` (Run now).'),
  maintenance: z.boolean().describe('Started inside a maintenance window: left out of verdicts and availability.'),
});
export type RunView = z.infer<typeof RunView>;

export const RunPage = z.object({
  runs: z.array(RunView),
  nextCursor: z.string().nullable(),
});
export type RunPage = z.infer<typeof RunPage>;

export const ClusterView = z.object({
  name: z.string(),
  agentsLive: z.number().int(),
  agentsStale: z.number().int(),
  testsTotal: z.number().int(),
  testsPassing: z.number().int(),
  testsFailing: z.number().int(),
  testsPending: z.number().int(),
  tests: z.record(Verdict, z.number().int()).describe('Tests by verdict.'),
  labels: z.record(z.string(), z.string()).describe("Labels admins set, for fleet tests' selectors."),
  lastResultAt: z.string().nullable(),
});
export type ClusterView = z.infer<typeof ClusterView>;

export const FleetView = z.object({
  generatedAt: z.string(),
  clusters: z.array(ClusterView).describe('Clusters with failing tests first, then by name.'),
  failingTests: z.array(TestSummary).describe('Failing tests across all visible clusters, most important first.'),
  staleAgents: z.array(AgentView),
});
export type FleetView = z.infer<typeof FleetView>;

/** The list answers of the API, each a named schema (routes declare them; tests parse with them). */
export const TokenList = z.object({ tokens: z.array(TokenInfo) });
export const AgentList = z.object({ agents: z.array(AgentView) });
export const ClusterList = z.object({ clusters: z.array(ClusterView) });
export const TestPage = z.object({ tests: z.array(TestSummary), nextCursor: z.string().nullable() });
export type TestPage = z.infer<typeof TestPage>;

export const RunNowResponse = z.object({
  key: z.string(),
  requestId: z
    .string()
    .describe('Carried to the agents in their assignment; their runs are tagged trigger.type "manual".'),
  requestedAt: z.string(),
  agents: z
    .array(z.object({ agentId: z.string(), node: z.string() }))
    .describe('The live agents asked to run it (woken through their long-polls).'),
});
export type RunNowResponse = z.infer<typeof RunNowResponse>;

export const AvailabilityReport = z.object({
  scope: z.object({
    cluster: z.string().nullable(),
    node: z.string().nullable(),
    fleetTest: z.string().nullable(),
  }),
  windows: z.record(z.string(), Availability).describe('1h, 24h, 7d, 30d.'),
});
export type AvailabilityReport = z.infer<typeof AvailabilityReport>;

export const RejectedList = z.object({
  objects: z.array(
    z.object({
      cluster: z.string(),
      namespace: z.string(),
      name: z.string(),
      reason: z.string().describe('What is wrong, naming each field.'),
      since: z.string(),
      keptRevision: z
        .number()
        .int()
        .nullable()
        .describe('The live revision that keeps running (an invalid edit); null: never valid, not running.'),
    }),
  ),
});
export type RejectedList = z.infer<typeof RejectedList>;
