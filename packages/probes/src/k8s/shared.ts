import { z } from 'zod';
import { Span } from '../config.ts';
import type { KubeClient } from './client.ts';
import type { Sweeper } from './steps.ts';

/*
 * What the Kubernetes probes share: the config fields every probe takes, the few object shapes
 * they read, and why a pod will not come up.
 */

/** What each probe is built with: the one client and leftover sweep, and the default namespace. */
export type K8sRuntime = {
  client: KubeClient;
  sweeper: Sweeper;
  /** The namespace a probe works in: its config's, else the agent's own. */
  nsOf: (given: string | undefined) => string;
};

export const Namespace = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (a DNS label)');

export const common = {
  namespace: Namespace.optional(),
  /** How often a wait looks again. */
  pollInterval: Span.default(250),
  /** How long one wait may take; by default the run's limit less time kept for cleanup. */
  stepTimeout: Span.optional(),
  /** How long cleanup may take after a failure, a timeout or a cancel. */
  cleanupTimeout: Span.default(30_000),
};

export const Image = z.string().min(1).max(512);
export const Tolerations = z.array(z.record(z.string(), z.unknown())).max(50);

export type Pod = {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      ready?: boolean;
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
};
export type Deployment = {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
};
export type Service = { spec?: { clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] } };
export type EndpointSlice = { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] };

const STUCK = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

/** Why a pod will not get to Running by itself, or undefined while it still may. */
export function podTrouble(pod: Pod): string | undefined {
  const s = pod.status ?? {};
  if (s.phase === 'Failed' || s.phase === 'Succeeded')
    return `pod ended ${s.phase}${s.reason ? ` (${s.reason}${s.message ? `: ${s.message}` : ''})` : ''}`;
  const unschedulable = s.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable) return `pod cannot be scheduled: ${unschedulable.message ?? 'Unschedulable'}`;
  for (const c of s.containerStatuses ?? []) {
    const w = c.state?.waiting;
    if (w?.reason && STUCK.has(w.reason)) return `container ${c.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
  }
  return undefined;
}

export function pendingWhy(pod: Pod | undefined): string {
  if (!pod) return 'the pod is gone';
  const s = pod.status ?? {};
  const waiting = s.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.reason;
  const cond = s.conditions?.find((c) => c.status === 'False' && c.message);
  return `pod is ${s.phase ?? 'Pending'}${pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : ', not scheduled'}${waiting ? ` (${waiting})` : ''}${cond ? ` (${cond.type}: ${cond.message})` : ''}`;
}

export const hostOf = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);
