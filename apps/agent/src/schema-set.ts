/**
 * The zod schemas the agent checks the API's answers and its own runs with; only ever loaded
 * through `schemas()` in wire.ts, the first time a test, a run or a remedy needs them.
 */
// Subpaths, not contracts' index: a lazily loaded index would load every module it re-exports.
import { AssignedTest } from '@synthfleet/contracts/agent-api';
import { z } from 'zod';

export { RunBatchResponse, RunResult } from '@synthfleet/contracts/agent-api';
export { RemedyGrant } from '@synthfleet/contracts/remedy';
export const AssignedTests = z.array(AssignedTest);
