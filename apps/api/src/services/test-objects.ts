import {
  describeIssues,
  type FieldIssue,
  formatIssues,
  parseNodeSelector,
  SyntheticTest,
  type SyntheticTestSpec,
} from '@synthfleet/contracts';
import { badRequest } from '../errors.ts';
import { canonicalJson, hashString } from '../lib/hash.ts';

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
