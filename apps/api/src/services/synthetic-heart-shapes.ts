/**
 * synthetic-heart's REST shapes, field for field, as cisco-open/synthetic-heart at commit
 * 500284980fd7 marshals them: protobuf messages (`common/proto/syntest.proto`) through protojson
 * with unpopulated fields emitted (every field present, uint64 as a string, an unset message as
 * null), and Go structs (`common/models.go`, `restapi/main.go`) through encoding/json (fields
 * without a json tag keep their Go name; a time.Duration is nanoseconds). Strict: a field of ours
 * that synthetic-heart lacks fails the check, unless listed here as an extra its clients ignore.
 */
import { z } from 'zod';

const StringMap = z.record(z.string(), z.string());

export const ShTimeouts = z.object({ init: z.string(), run: z.string(), finish: z.string() }).strict();

/** `proto.syntest.SynTestConfig`, fields in proto order. */
export const ShSynTestConfig = z
  .object({
    name: z.string(),
    version: z.string(),
    labels: StringMap,
    pluginName: z.string(),
    displayName: z.string(),
    description: z.string(),
    namespace: z.string(),
    importance: z.string(),
    repeat: z.string(),
    nodeSelector: z.string(),
    podLabelSelector: StringMap,
    dependsOn: z.array(z.string()),
    timeouts: ShTimeouts.nullable(),
    pluginRestartPolicy: z.string(),
    logWaitTime: z.string(),
    config: z.string(),
    runtime: StringMap,
  })
  .strict();
export type ShSynTestConfig = z.infer<typeof ShSynTestConfig>;

/** uint64 under protojson: a decimal string. */
const Uint64 = z.string().regex(/^\d+$/);

const runFields = {
  id: z.string(),
  agentId: z.string(),
  startTime: z.string(),
  endTime: z.string(),
  testConfig: ShSynTestConfig.nullable(),
  testResult: z.object({ marks: Uint64, maxMarks: Uint64, details: StringMap }).strict().nullable(),
  details: StringMap,
};
const trigger = <T extends z.ZodType>(triggeringTest: T) =>
  z.object({ triggerType: z.string(), triggeringTest: triggeringTest.nullable(), details: z.string() }).strict();

/** A TestRun inside another's trigger (this API nests one level: its own trigger says no further). */
export const ShTriggeringTestRun = z.object({ ...runFields, trigger: trigger(z.null()).nullable() }).strict();

/** `proto.syntest.TestRun`. */
export const ShTestRun = z.object({ ...runFields, trigger: trigger(ShTriggeringTestRun).nullable() }).strict();
export type ShTestRun = z.infer<typeof ShTestRun>;
export type ShTriggeringTestRun = z.infer<typeof ShTriggeringTestRun>;

/** `common.SyntestConfigStatus`. */
export const ShConfigStatus = z
  .object({ deployed: z.boolean(), message: z.string(), agent: z.string(), timestamp: z.string() })
  .strict();

/** restapi's GetTestConfig answer. */
export const ShTestConfigResponse = z
  .object({ testConfig: ShSynTestConfig, configStatus: ShConfigStatus, rawConfig: z.string() })
  .strict();

/** `common.SyntestConfigSummary`, by configId. */
export const ShConfigSummaries = z.record(
  z.string(),
  z
    .object({
      name: z.string(),
      namespace: z.string(),
      configId: z.string(),
      version: z.string(),
      displayName: z.string(),
      description: z.string(),
      plugin: z.string(),
      repeat: z.string(),
    })
    .strict(),
);

/** `common.RoutineStatus`. */
export const ShRoutineStatus = z.enum(['notRunning', 'running', 'error', 'restarting', 'unknown']);

/** `common.PluginState` (times are Go's time.Time in RFC 3339). */
export const ShPluginState = z
  .object({
    status: ShRoutineStatus,
    statusMsg: z.string(),
    config: ShSynTestConfig,
    restarts: z.number().int(),
    restartBackOff: z.string(),
    totalRestarts: z.number().int(),
    runningSince: z.string(),
    lastUpdated: z.string(),
  })
  .strict();

/** `common.AgentConfig` as encoding/json writes it (PrometheusConfig, StorageConfig and PluginDiscoveryConfig have no json tags). */
export const ShAgentConfig = z
  .object({
    matchTestNamespaces: z.array(z.string()),
    matchTestLabels: StringMap,
    labelFileLocation: z.string(),
    syncFrequency: z.number().int(),
    gracePeriod: z.number().int(),
    prometheusConfig: z
      .object({
        ServerAddress: z.string(),
        Push: z.boolean(),
        PrometheusPushUrl: z.string(),
        Labels: StringMap,
      })
      .strict(),
    storeConfig: z
      .object({ Type: z.string(), BufferSize: z.number().int(), Address: z.string(), ExportRate: z.number().int() })
      .strict(),
    printPluginLogs: z.string(),
    enabledPlugins: z.array(z.object({ Path: z.string(), Cmd: z.string() }).strict()),
    debugMode: z.boolean(),
    discoveredPlugins: z.record(z.string(), z.array(z.string())),
    runTimeInfo: z
      .object({ nodeName: z.string(), podName: z.string(), podLabels: StringMap, agentNamespace: z.string() })
      .strict(),
    matchNamespaceSet: z.record(z.string(), z.boolean()),
  })
  .strict();

/** `common.AgentStatus`, by agentId. */
export const ShAgents = z.record(
  z.string(),
  z.object({ syntests: z.array(z.string()), statusTime: z.string(), agentConfig: ShAgentConfig }).strict(),
);

/** restapi's PingApiResponse. Extra: `failedTests.*.cluster` when one answer spans clusters. */
export const ShPing = z
  .object({
    message: z.enum(['Healthy', 'UnHealthy']),
    lastUpdated: z.string(),
    details: z.string(),
    status: z.number().int().min(0).max(3),
    failedTests: z.record(
      z.string(),
      z
        .object({
          name: z.string(),
          namespace: z.string(),
          testId: z.string(),
          displayName: z.string(),
          status: z.number().int(),
          cluster: z.string().optional(),
        })
        .strict(),
    ),
  })
  .strict();

/** pluginId → routine status (`plugins/status`) or pass ratio as "%.5f" (`testruns/status`). */
export const ShStatusMap = z.record(z.string(), z.string());
