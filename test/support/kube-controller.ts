/**
 * The cluster's controllers, simulated on top of the Kubernetes API double (`kube-api.ts`), small
 * but in the shapes the real ones write, so the k8s probes can be tested end to end:
 * - **scheduler and kubelet**: a new pod is bound to a node (its `nodeName`, or the node named by a
 *   required node affinity on `metadata.name`, or the first node) after `scheduleMs`, then Running and
 *   Ready with a `podIP` after `startMs`. `scheduling: 'fail'` leaves pods Pending with a
 *   `PodScheduled=False, Unschedulable` condition and the scheduler's message; `'hang'` leaves them
 *   Pending with nothing said, as a stuck scheduler or a full cluster does. An image listed in
 *   `badImages` gets `ErrImagePull`.
 * - **graceful deletion**: a deleted pod gets `deletionTimestamp` and is gone after `deleteMs`; a
 *   deleted namespace goes `Terminating`, its contents are removed, then it is gone after `deleteMs`.
 * - **deployment controller**: keeps `spec.replicas` pods of the current template (named
 *   `{deployment}-{hash}-{suffix}`, labelled `pod-template-hash`, owned by the deployment), replaces
 *   pods of an older template once the new ones are ready (a rollout), and writes `status`
 *   (`observedGeneration`, `replicas`, `updatedReplicas`, `readyReplicas`, `availableReplicas`).
 * - **service and endpointslice controllers**: a service gets `spec.clusterIP`; an EndpointSlice
 *   labelled `kubernetes.io/service-name` lists the ready pods its selector matches, `endpointsMs`
 *   after they change.
 * - **job controller**: a job completes (`Complete`, `succeeded: 1`) or fails (`Failed`) after `jobMs`.
 * - **garbage collector**: objects whose owner is gone are deleted.
 * The pods run nothing: their `podIP` is `podIP` (127.0.0.1 by default) so a test can serve what
 * the pods would serve on that address, and services answer on `clusterIP` the same way.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { KubeApiDouble, KubeObject } from './kube-api.ts';

export const POD = 'core/v1/pods';
export const SERVICE = 'core/v1/services';
export const NAMESPACE = 'core/v1/namespaces';
export const DEPLOYMENT = 'apps/v1/deployments';
export const JOB = 'batch/v1/jobs';
export const ENDPOINTSLICE = 'discovery.k8s.io/v1/endpointslices';
/** Every resource the k8s probes and the controller use. */
export const WORKLOAD_RESOURCES = [POD, SERVICE, NAMESPACE, DEPLOYMENT, JOB, ENDPOINTSLICE];

export type ControllerOptions = {
  nodes?: string[];
  scheduleMs?: number;
  startMs?: number;
  deleteMs?: number;
  endpointsMs?: number;
  jobMs?: number;
  scheduling?: 'ok' | 'fail' | 'hang';
  jobOutcome?: 'complete' | 'fail';
  badImages?: string[];
  podIP?: string;
  clusterIP?: string;
  tickMs?: number;
};

type Meta = KubeObject['metadata'] & {
  labels?: Record<string, string>;
  ownerReferences?: { uid: string; kind: string; name: string }[];
  deletionTimestamp?: string;
};
type Obj = KubeObject & { metadata: Meta; spec?: Record<string, unknown> };

const age = (o: Obj, now: number) => now - Date.parse(o.metadata.creationTimestamp ?? '');
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function templateHash(template: unknown): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
}

function pinnedNode(pod: Obj): string | undefined {
  const spec = pod.spec as {
    nodeName?: string;
    affinity?: {
      nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown[] } };
    };
  };
  if (spec.nodeName) return spec.nodeName;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms as { matchFields?: { key: string; operator: string; values: string[] }[] }[]) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In') return f.values[0];
  }
  return undefined;
}

function isReady(pod: Obj): boolean {
  const s = pod.status as { phase?: string; conditions?: { type: string; status: string }[] } | undefined;
  return (
    !pod.metadata.deletionTimestamp &&
    s?.phase === 'Running' &&
    (s.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function startKubeController(kube: KubeApiDouble, options: ControllerOptions = {}) {
  const o = {
    nodes: ['node-a', 'node-b', 'node-c'],
    scheduleMs: 50,
    startMs: 150,
    deleteMs: 100,
    endpointsMs: 100,
    jobMs: 200,
    scheduling: 'ok' as 'ok' | 'fail' | 'hang',
    jobOutcome: 'complete' as 'complete' | 'fail',
    badImages: [] as string[],
    podIP: '127.0.0.1',
    clusterIP: '127.0.0.1',
    tickMs: 25,
    ...options,
  };
  const served = new Set(kube.resources());
  /** When each object's last relevant change happened (for the delays). */
  const changedAt = new Map<string, number>();

  kube.setDeleteHook((resource, object) => {
    if (resource !== POD && resource !== NAMESPACE) return false;
    if (object.metadata.deletionTimestamp) return true;
    const next = structuredClone(object) as Obj;
    next.metadata.deletionTimestamp = new Date().toISOString();
    if (resource === NAMESPACE) next.status = { phase: 'Terminating' };
    kube.update(resource, next);
    return true;
  });

  const all = (resource: string) => (served.has(resource) ? (kube.list(resource) as Obj[]) : []);

  /** Graceful deletion of a pod: marked now, gone `deleteMs` later. */
  function terminate(pod: Obj, now = Date.now()) {
    if (pod.metadata.deletionTimestamp) return;
    kube.update(POD, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(now).toISOString() } });
  }

  function setStatus(resource: string, obj: Obj, status: Record<string, unknown>) {
    if (same(obj.status, status)) return;
    kube.update(resource, { ...obj, status });
  }

  /** What the scheduler writes on a pod it cannot place. */
  function unschedulable(pod: Obj, why: string) {
    setStatus(POD, pod, {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: `0/${o.nodes.length} nodes are available: ${why}`,
        },
      ],
    });
  }

  function reconcilePods(now: number) {
    for (const pod of all(POD)) {
      const at = Date.parse(pod.metadata.deletionTimestamp ?? '');
      if (!Number.isNaN(at)) {
        if (now - at >= o.deleteMs) kube.remove(POD, pod.metadata.namespace, pod.metadata.name);
        continue;
      }
      const t = age(pod, now);
      const scheduled = pod.spec?.nodeName !== undefined;
      if (!scheduled) {
        if (o.scheduling === 'hang') {
          setStatus(POD, pod, { phase: 'Pending' });
          continue;
        }
        if (o.scheduling === 'fail') {
          unschedulable(
            pod,
            `${o.nodes.length} Insufficient cpu. preemption: 0/${o.nodes.length} nodes are available: ${o.nodes.length} No preemption victims found for incoming pod.`,
          );
          continue;
        }
        if (t < o.scheduleMs) {
          setStatus(POD, pod, { phase: 'Pending' });
          continue;
        }
      }
      const node = pinnedNode(pod) ?? (o.nodes[0] as string);
      if (!scheduled) {
        if (!o.nodes.includes(node)) {
          unschedulable(pod, `${o.nodes.length} node(s) didn't match Pod's node affinity/selector.`);
          continue;
        }
        kube.update(POD, { ...pod, spec: { ...pod.spec, nodeName: node } });
        changedAt.set(pod.metadata.uid as string, now);
        continue;
      }
      const since = now - (changedAt.get(pod.metadata.uid as string) ?? now - t);
      const containers = (pod.spec?.containers ?? []) as { name: string; image: string }[];
      const bad = containers.find((c) => o.badImages.includes(c.image));
      const scheduledCondition = { type: 'PodScheduled', status: 'True' };
      if (bad) {
        setStatus(POD, pod, {
          phase: 'Pending',
          hostIP: o.podIP,
          conditions: [scheduledCondition, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
          containerStatuses: containers.map((c) => ({
            name: c.name,
            image: c.image,
            ready: false,
            state:
              c === bad
                ? {
                    waiting: {
                      reason: 'ErrImagePull',
                      message: `failed to pull and unpack image "${c.image}": not found`,
                    },
                  }
                : { waiting: { reason: 'PodInitializing' } },
          })),
        });
        continue;
      }
      if (since < o.startMs) {
        setStatus(POD, pod, { phase: 'Pending', conditions: [scheduledCondition] });
        continue;
      }
      const started = (pod.status as { startTime?: string } | undefined)?.startTime ?? new Date(now).toISOString();
      setStatus(POD, pod, {
        phase: 'Running',
        hostIP: o.podIP,
        podIP: o.podIP,
        podIPs: [{ ip: o.podIP }],
        startTime: started,
        conditions: [scheduledCondition, { type: 'Ready', status: 'True' }],
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image,
          ready: true,
          started: true,
          state: { running: { startedAt: started } },
        })),
      });
    }
  }

  function reconcileDeployments(now: number) {
    const pods = all(POD);
    for (const d of all(DEPLOYMENT)) {
      const spec = d.spec as { replicas?: number; template: { metadata?: { labels?: Record<string, string> } } };
      const replicas = spec.replicas ?? 1;
      const hash = templateHash(spec.template);
      const owned = pods.filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid));
      const live = owned.filter((p) => !p.metadata.deletionTimestamp);
      const current = live.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
      const old = live.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
      for (let i = current.length; i < replicas; i++) {
        const name = `${d.metadata.name}-${hash.slice(0, 8)}-${randomUUID().slice(0, 5)}`;
        kube.apply(POD, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name,
            namespace: d.metadata.namespace,
            labels: { ...(spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash },
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid },
            ],
          },
          spec: structuredClone((spec.template as { spec?: unknown }).spec ?? {}),
        });
      }
      for (const extra of current.slice(replicas)) terminate(extra);
      const readyCurrent = current.filter(isReady).length;
      // Old pods go once the new ones are all ready (maxSurge 100 %, as a simple rollout).
      if (readyCurrent >= Math.min(replicas, current.length) && current.length >= replicas)
        for (const p of old) terminate(p);
      const fresh = all(DEPLOYMENT).find((x) => x.metadata.uid === d.metadata.uid);
      if (!fresh) continue;
      const ready = live.filter(isReady).length;
      setStatus(DEPLOYMENT, fresh, {
        observedGeneration: fresh.metadata.generation,
        replicas: live.length,
        updatedReplicas: current.length,
        readyReplicas: ready,
        availableReplicas: ready,
        ...(live.length - ready > 0 ? { unavailableReplicas: live.length - ready } : {}),
        conditions: [
          {
            type: 'Available',
            status: ready >= replicas ? 'True' : 'False',
            reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          },
        ],
      });
    }
    void now;
  }

  function reconcileServices(now: number) {
    const pods = all(POD);
    const slices = all(ENDPOINTSLICE);
    for (const svc of all(SERVICE)) {
      const spec = svc.spec as {
        clusterIP?: string;
        selector?: Record<string, string>;
        ports?: { port: number; targetPort?: number; name?: string }[];
      };
      if (!spec.clusterIP) {
        kube.apply(SERVICE, { ...svc, spec: { ...spec, clusterIP: o.clusterIP, clusterIPs: [o.clusterIP] } });
        continue;
      }
      const ready = pods
        .filter((p) => p.metadata.namespace === svc.metadata.namespace && selects(spec.selector, p.metadata.labels))
        .filter(isReady)
        .map((p) => p.metadata.name)
        .sort();
      const sliceName = `${svc.metadata.name}-slice`;
      const slice = slices.find(
        (s) => s.metadata.namespace === svc.metadata.namespace && s.metadata.name === sliceName,
      );
      const wanted = ready.map((name) => ({
        addresses: [o.podIP],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: svc.metadata.namespace, name },
      }));
      const key = `svc:${svc.metadata.uid}`;
      const had = ((slice as { endpoints?: unknown[] } | undefined)?.endpoints ?? []) as unknown[];
      if (same(had, wanted) && slice) {
        changedAt.delete(key);
        continue;
      }
      // The endpoints change endpointsMs after the pods do.
      const first = changedAt.get(key) ?? now;
      changedAt.set(key, first);
      if (now - first < o.endpointsMs) continue;
      changedAt.delete(key);
      kube.apply(ENDPOINTSLICE, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: sliceName,
          namespace: svc.metadata.namespace,
          labels: { 'kubernetes.io/service-name': svc.metadata.name },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid }],
        },
        addressType: 'IPv4',
        endpoints: wanted,
        ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.targetPort ?? p.port, protocol: 'TCP' })),
      });
    }
  }

  function reconcileNamespaces(now: number) {
    for (const ns of all(NAMESPACE)) {
      const at = Date.parse(ns.metadata.deletionTimestamp ?? '');
      if (Number.isNaN(at)) {
        setStatus(NAMESPACE, ns, { phase: 'Active' });
        continue;
      }
      let left = 0;
      for (const r of served) {
        if (r === NAMESPACE || r.endsWith('/nodes')) continue;
        for (const obj of kube.list(r, ns.metadata.name) as Obj[]) {
          left++;
          if (r === POD) terminate(obj, now);
          else kube.remove(r, ns.metadata.name, obj.metadata.name);
        }
      }
      if (left === 0 && now - at >= o.deleteMs) kube.remove(NAMESPACE, '', ns.metadata.name);
    }
  }

  function reconcileJobs(now: number) {
    for (const job of all(JOB)) {
      if (age(job, now) < o.jobMs) {
        setStatus(JOB, job, { active: 1, startTime: job.metadata.creationTimestamp });
        continue;
      }
      const done = new Date(Date.parse(job.metadata.creationTimestamp ?? '') + o.jobMs).toISOString();
      setStatus(
        JOB,
        job,
        o.jobOutcome === 'complete'
          ? {
              succeeded: 1,
              startTime: job.metadata.creationTimestamp,
              completionTime: done,
              conditions: [{ type: 'Complete', status: 'True' }],
            }
          : {
              failed: 1,
              startTime: job.metadata.creationTimestamp,
              conditions: [
                {
                  type: 'Failed',
                  status: 'True',
                  reason: 'BackoffLimitExceeded',
                  message: 'Job has reached the specified backoff limit',
                },
              ],
            },
      );
    }
  }

  function collectGarbage() {
    const uids = new Set<string>();
    for (const r of served) for (const obj of kube.list(r) as Obj[]) uids.add(obj.metadata.uid as string);
    for (const r of served)
      for (const obj of kube.list(r) as Obj[]) {
        const owners = obj.metadata.ownerReferences ?? [];
        if (owners.length > 0 && owners.every((w) => !uids.has(w.uid))) {
          if (r === POD) terminate(obj);
          else kube.remove(r, obj.metadata.namespace, obj.metadata.name);
        }
      }
  }

  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    try {
      const now = Date.now();
      reconcileNamespaces(now);
      reconcileDeployments(now);
      reconcilePods(now);
      reconcileServices(now);
      reconcileJobs(now);
      collectGarbage();
    } finally {
      busy = false;
    }
  }, o.tickMs);

  return {
    /** Changes how the next pods are scheduled: `ok`, `fail` (Unschedulable) or `hang` (no word). */
    setScheduling(mode: 'ok' | 'fail' | 'hang') {
      o.scheduling = mode;
    },
    setJobOutcome(outcome: 'complete' | 'fail') {
      o.jobOutcome = outcome;
    },
    setBadImages(images: string[]) {
      o.badImages = images;
    },
    stop() {
      clearInterval(timer);
      kube.setDeleteHook(undefined);
    },
  };
}
