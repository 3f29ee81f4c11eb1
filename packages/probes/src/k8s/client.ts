import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { httpFor } from '../util.ts';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Projected service-account tokens rotate (about hourly); the file is read again this often. */
const TOKEN_REREAD_MS = 60_000;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export type KubeAccess = {
  /** `https://host:port` of the API server (or `http://` for a proxy or a test double). */
  server: string;
  /** Path of a bearer token file, read again every minute. */
  tokenFile?: string;
  /** A fixed bearer token (used when there is no token file). */
  token?: string;
  /** PEM of the CA that signed the API server's certificate. */
  ca?: string;
};

/**
 * How the agent reaches the Kubernetes API: `K8S_API_SERVER` (+ `K8S_TOKEN_FILE`, `K8S_CA_FILE`)
 * when given, otherwise in-cluster from `KUBERNETES_SERVICE_HOST`/`_PORT` and the pod's service
 * account; undefined outside a cluster.
 */
export function kubeAccessFromEnv(env: Record<string, string | undefined>): KubeAccess | undefined {
  const caFile = env.K8S_CA_FILE ?? (env.K8S_API_SERVER ? undefined : `${SA_DIR}/ca.crt`);
  const tokenFile = env.K8S_TOKEN_FILE ?? (env.K8S_API_SERVER ? undefined : `${SA_DIR}/token`);
  let server = env.K8S_API_SERVER;
  if (!server && env.KUBERNETES_SERVICE_HOST) {
    const host = env.KUBERNETES_SERVICE_HOST.includes(':')
      ? `[${env.KUBERNETES_SERVICE_HOST}]`
      : env.KUBERNETES_SERVICE_HOST;
    server = `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`;
  }
  if (!server) return undefined;
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new Error(`K8S_CA_FILE ${caFile} cannot be read: ${(err as Error).message}`);
    }
  }
  return { server: server.replace(/\/+$/, ''), tokenFile, ca };
}

/** An error answer of the API server, with its `Status` reason and message. */
export class KubeError extends Error {
  override name = 'KubeError';
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export type RequestOptions = {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
};

/**
 * The little of the Kubernetes REST API the k8s probes need, on `node:http(s)` with keep-alive:
 * no client library (the agent's memory budget is small, and the probes need five verbs).
 */
export class KubeClient {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly url: URL;
  private token: { value?: string; readAt: number } = { readAt: 0 };

  readonly access: KubeAccess;

  constructor(access: KubeAccess) {
    this.access = access;
    this.url = new URL(access.server);
    this.agent =
      this.url.protocol === 'https:'
        ? new (process.getBuiltinModule('node:https').Agent)({ keepAlive: true, maxSockets: 8, ca: access.ca })
        : new HttpAgent({ keepAlive: true, maxSockets: 8 });
  }

  private bearer(): string | undefined {
    if (!this.access.tokenFile) return this.access.token;
    const now = Date.now();
    if (this.token.value === undefined || now - this.token.readAt > TOKEN_REREAD_MS) {
      try {
        this.token = { value: readFileSync(this.access.tokenFile, 'utf8').trim(), readAt: now };
      } catch (err) {
        if (this.token.value === undefined)
          throw new Error(`the token file ${this.access.tokenFile} cannot be read: ${(err as Error).message}`);
      }
    }
    return this.token.value;
  }

  request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const target = new URL(this.url.pathname.replace(/\/$/, '') + path, this.url);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) target.searchParams.set(k, String(v));
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.bearer();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const send = httpFor(target).request;
    return new Promise<T>((resolve, reject) => {
      const req = send(target, { method, headers, agent: this.agent, signal: options.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`${method} ${path}: the answer passed ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            resolve(parsed as T);
            return;
          }
          const status = (parsed ?? {}) as { reason?: string; message?: string };
          reject(
            new KubeError(
              code,
              status.reason ?? 'Unknown',
              `${method} ${path}: ${code} ${status.reason ?? ''}${status.message ? `: ${status.message}` : text ? `: ${text.slice(0, 200)}` : ''}`.replace(
                /\s+:/,
                ':',
              ),
            ),
          );
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  get<T = unknown>(path: string, signal?: AbortSignal) {
    return this.request<T>('GET', path, { signal });
  }

  /** GET that answers undefined for a 404. */
  async find<T = unknown>(path: string, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path, { signal });
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return undefined;
      throw err;
    }
  }

  list<T = unknown>(path: string, labelSelector?: string, signal?: AbortSignal) {
    return this.request<{ items: T[]; metadata?: { resourceVersion?: string } }>('GET', path, {
      query: { labelSelector },
      signal,
    });
  }

  create<T = unknown>(path: string, body: unknown, signal?: AbortSignal) {
    return this.request<T>('POST', path, { body, signal });
  }

  patch<T = unknown>(path: string, body: unknown, signal?: AbortSignal) {
    return this.request<T>('PATCH', path, { body, contentType: 'application/merge-patch+json', signal });
  }

  /** DELETE that counts a 404 as done (the object is already gone). */
  async remove(path: string, signal?: AbortSignal) {
    try {
      await this.request('DELETE', path, {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        signal,
      });
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return false;
      throw err;
    }
  }

  close() {
    this.agent.destroy();
  }
}
