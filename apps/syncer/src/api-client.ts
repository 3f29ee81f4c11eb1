import {
  ApiCallError,
  RollupList,
  type RollupList as RollupListType,
  SnapshotResponse,
  UpsertTestResponse,
  WhoAmI,
} from '@synthfleet/contracts';
import type { z } from 'zod';

/** An answer from the API that was not a success; `status` 0 means it could not be reached. */
export { ApiCallError };

export type ApiClientOptions = {
  baseUrl: string;
  token: string;
  /** The source the tests are declared under (SYNCER_SOURCE); default `syncer`. */
  source?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
};

/** An object the source holds that is not valid, as a snapshot reports it. */
export type Refused = { namespace: string; name: string; reason: string };

/** The syncer's calls to the control plane; every answer is validated before use. */
export function createApiClient(opts: ApiClientOptions) {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const source = opts.source ?? 'syncer';

  async function call<S extends z.ZodType | undefined>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<S extends z.ZodType ? z.infer<S> : undefined> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${opts.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ApiCallError(0, `${method} ${path}: API unreachable: ${(err as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        // not our envelope (a proxy's page, say): keep the start of the text
      }
      throw new ApiCallError(res.status, `${method} ${path}: ${res.status}: ${message}`);
    }
    if (schema === undefined) return undefined as never;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiCallError(res.status, `${method} ${path}: the answer is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new ApiCallError(res.status, `${method} ${path}: unexpected answer: ${parsed.error.message}`);
    return parsed.data as never;
  }

  const testPath = (cluster: string, namespace: string, name: string) =>
    `/api/v1/clusters/${encodeURIComponent(cluster)}/tests/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

  return {
    whoami: () => call('GET', '/api/v1/whoami', WhoAmI),
    /** Stores an object; an invalid one gets a 400 and is recorded (its last valid revision keeps running). */
    upsert: (cluster: string, namespace: string, name: string, object: unknown) =>
      call(
        'PUT',
        `${testPath(cluster, namespace, name)}?source=${encodeURIComponent(source)}`,
        UpsertTestResponse,
        object,
      ),
    /** Deletes a test; one that is not there is already what we want. */
    async remove(cluster: string, namespace: string, name: string): Promise<void> {
      try {
        await call('DELETE', testPath(cluster, namespace, name), undefined);
      } catch (err) {
        if (!(err instanceof ApiCallError && err.status === 404)) throw err;
      }
    },
    snapshot: (cluster: string, items: unknown[], rejected: Refused[] = []) =>
      call('PUT', `/api/v1/clusters/${encodeURIComponent(cluster)}/tests`, SnapshotResponse, {
        items,
        source,
        rejected,
      }),
    rollups: (cluster: string): Promise<RollupListType> =>
      call('GET', `/api/v1/clusters/${encodeURIComponent(cluster)}/rollups`, RollupList),
  };
}
export type ApiClient = ReturnType<typeof createApiClient>;
