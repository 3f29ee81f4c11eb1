import {
  describeIssues,
  execEnvIssues,
  type FieldIssue,
  formatIssues,
  parseNodeSelector,
  SyntheticTest,
  type SyntheticTestSpec,
} from '@synthfleet/contracts';
import { parse as parseYaml } from 'yaml';
import { badRequest } from '../errors.ts';
import { canonicalJson } from '../lib/canonical-json.ts';
import { hashString } from '../lib/hash.ts';

export type ParsedTest = {
  object: SyntheticTest;
  raw: string;
  specHash: string;
  quorumCount: number | null;
  quorumShare: number | null;
};

/** Validates a SyntheticTest object; the error names every field that is wrong. */
export function parseTestObject(body: unknown, prefix = ''): ParsedTest | { issues: FieldIssue[] } {
  const result = SyntheticTest.safeParse(body);
  if (!result.success) return { issues: describeIssues(result.error, prefix) };
  const object = result.data;
  const execIssues = execStringConfigIssues(object.spec, prefix);
  if (execIssues.length > 0) return { issues: execIssues };
  // The selector was validated by the schema; parsing again here keeps stored rows trustworthy.
  parseNodeSelector(object.spec.node);
  const quorum = object.spec.quorum;
  return {
    object,
    raw: JSON.stringify(body),
    specHash: hashString(canonicalJson({ apiVersion: object.apiVersion, spec: object.spec })),
    quorumCount: typeof quorum === 'number' ? quorum : null,
    quorumShare: typeof quorum === 'string' ? Number.parseFloat(quorum) : null,
  };
}

/**
 * The schema checks an object config's exec env; a YAML string config (synthetic-heart style) is
 * parsed here so a forbidden variable is refused at the API whichever form the spec takes.
 */
function execStringConfigIssues(spec: SyntheticTestSpec, prefix: string): FieldIssue[] {
  if (spec.plugin !== 'exec' || typeof spec.config !== 'string') return [];
  let config: unknown;
  try {
    config = parseYaml(spec.config);
  } catch (err) {
    const path = [prefix, 'spec', 'config'].filter(Boolean).join('.');
    return [{ path, message: `is not valid YAML: ${(err as Error).message.split('\n')[0]}` }];
  }
  return execEnvIssues(config).map((i) => ({
    path: [prefix, 'spec', ...i.path].filter(Boolean).join('.'),
    message: i.message,
  }));
}

export function parseTestObjectOrThrow(body: unknown): ParsedTest {
  const parsed = parseTestObject(body);
  if ('issues' in parsed) {
    throw badRequest(`invalid SyntheticTest: ${formatIssues(parsed.issues)}`, parsed.issues);
  }
  return parsed;
}

export function specOf(json: string): SyntheticTestSpec {
  return JSON.parse(json) as SyntheticTestSpec;
}
