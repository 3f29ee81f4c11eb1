import { describeIssues, formatIssues, SYNTHFLEET_API_VERSION, SyntheticTest } from '@synthfleet/contracts';

/** A SyntheticTest as a source saw it, checked against the same schema the API enforces. */
export type Checked = {
  /** `namespace/name`: a test's identity within its cluster. */
  key: string;
  namespace: string;
  name: string;
  apiVersion: string;
  generation: number | undefined;
  /** The object as the source gave it (with its status, for the status write-back). */
  raw: Record<string, unknown>;
  /** What goes up: identity and spec (an invalid one too, so the API can record why it refuses it). */
  object: Record<string, unknown>;
} & ({ valid: true; hash: string } | { valid: false; message: string });

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks an object from a source. What goes up is its spec and identity only: status,
 * resourceVersion and managedFields change on every status write and would make every write look
 * like a change. Returns undefined for something that has no name at all (nothing to report on).
 */
export function checkObject(raw: unknown, fallbackApiVersion = SYNTHFLEET_API_VERSION): Checked | undefined {
  if (!isRecord(raw) || !isRecord(raw.metadata) || typeof raw.metadata.name !== 'string' || !raw.metadata.name)
    return undefined;
  const meta = raw.metadata;
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
  const name = meta.name as string;
  const apiVersion = typeof raw.apiVersion === 'string' ? raw.apiVersion : fallbackApiVersion;
  const generation = typeof meta.generation === 'number' ? meta.generation : undefined;
  const base = { key: `${namespace}/${name}`, namespace, name, apiVersion, generation, raw };
  const metadata: Record<string, unknown> = { name, namespace };
  if (typeof meta.uid === 'string') metadata.uid = meta.uid;
  if (generation !== undefined) metadata.generation = generation;
  if (isRecord(meta.labels)) metadata.labels = meta.labels;
  const object = { apiVersion, kind: raw.kind, metadata, spec: raw.spec };
  const parsed = SyntheticTest.safeParse(object);
  if (!parsed.success) return { ...base, object, valid: false, message: formatIssues(describeIssues(parsed.error)) };
  return { ...base, valid: true, object, hash: JSON.stringify(object) };
}

/** Whether two checks of the same object would send the same thing up. */
export function sameContent(a: Checked, b: Checked): boolean {
  if (a.valid !== b.valid || a.apiVersion !== b.apiVersion) return false;
  // The API server bumps the generation on every spec change and only then: equal generations
  // mean an update that touched status or metadata, which the API does not care about.
  if (a.generation !== undefined && a.generation === b.generation) return true;
  if (a.valid && b.valid) return a.hash === b.hash;
  return !a.valid && !b.valid && a.message === b.message;
}
