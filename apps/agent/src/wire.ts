import type { Assignment, Peer, RegisterAgentResponse } from '@synthfleet/contracts';

/*
 * The API's answers as the agent reads them. What an idle agent gets (its registration, an
 * assignment with no tests, an error) is checked here by plain code; tests, runs and remedies are
 * checked with contracts' zod schemas, loaded the first time one arrives. An idle agent thus never
 * evaluates zod or the schemas built on it (about 9 MB of RSS; scripts/build-agent.ts).
 */

type SchemaSet = typeof import('./schema-set.ts');
let loading: Promise<SchemaSet> | undefined;

/** contracts' schemas, loaded once on first use (a dynamic import the bundle keeps lazy). */
export function schemas(): Promise<SchemaSet> {
  loading ??= import('./schema-set.ts').catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** An answer that is not what the API sends: where, and what is wrong. */
export class WireError extends Error {
  override name = 'WireError';
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new WireError(path, 'expected an object');
  return value as Record<string, unknown>;
}

function string(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new WireError(`${path}${key}`, 'expected a string');
  return v;
}

function int(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new WireError(`${path}${key}`, 'expected a whole number');
  return v;
}

function array(o: Record<string, unknown>, key: string, path: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new WireError(`${path}${key}`, 'expected an array');
  return v;
}

export function parseRegisterAnswer(body: unknown): RegisterAgentResponse {
  const o = object(body, '(answer)');
  return {
    agentId: string(o, 'agentId', ''),
    cluster: string(o, 'cluster', ''),
    pollWaitSeconds: int(o, 'pollWaitSeconds', ''),
    deadlineSeconds: int(o, 'deadlineSeconds', ''),
  };
}

/** An assignment from the API or the one saved on disk; its tests (if any) through the zod schema. */
export async function parseAssignment(body: unknown): Promise<Assignment> {
  const o = object(body, '(answer)');
  const peers: Peer[] = array(o, 'peers', '').map((p, i) => {
    const peer = object(p, `peers.${i}`);
    return {
      agentId: string(peer, 'agentId', `peers.${i}.`),
      node: string(peer, 'node', `peers.${i}.`),
      heartbeatUrl: string(peer, 'heartbeatUrl', `peers.${i}.`),
    };
  });
  const rawTests = array(o, 'tests', '');
  let tests: Assignment['tests'] = [];
  if (rawTests.length > 0) {
    const parsed = (await schemas()).AssignedTests.safeParse(rawTests);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new WireError(['tests', ...(issue?.path ?? [])].join('.'), issue?.message ?? 'not valid');
    }
    tests = parsed.data;
  }
  return { agentId: string(o, 'agentId', ''), version: int(o, 'version', ''), tests, peers };
}

/** The API's error envelope's code and message, or undefined for anything else (a proxy's page). */
export function errorOf(body: unknown): { code: string; message: string } | undefined {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string'
    ? { code: error.code, message: error.message }
    : undefined;
}
