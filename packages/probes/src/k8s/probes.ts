import { K8S_FAMILIES, type K8sFamily } from '@synthfleet/contracts/plugins';
import type { Probe } from '../types.ts';
import { createK8sApiProbe } from './api.ts';
import type { KubeClient } from './client.ts';
import { createK8sDeploymentProbe } from './deployment.ts';
import { createK8sDnsProbe } from './dns.ts';
import { createK8sNamespaceProbe } from './namespace.ts';
import { createK8sPodProbe } from './pod.ts';
import type { K8sRuntime } from './shared.ts';
import { Sweeper } from './steps.ts';

export { K8S_FAMILIES, type K8sFamily } from '@synthfleet/contracts/plugins';

export type K8sProbeOptions = {
  client: KubeClient;
  /** Where probes create objects when their config names no namespace (the agent's own). */
  defaultNamespace: string;
  /** Leftovers older than this are removed by the startup sweep (default 15 minutes). */
  sweepAgeMs?: number;
  families?: readonly K8sFamily[];
  onSweep?: (collection: string, removed: string[]) => void;
};

const CREATE: Record<K8sFamily, (k: K8sRuntime) => Probe<never>> = {
  pod: createK8sPodProbe as never,
  deployment: createK8sDeploymentProbe as never,
  dns: createK8sDnsProbe as never,
  namespace: createK8sNamespaceProbe as never,
  api: createK8sApiProbe as never,
};

/** The Kubernetes probes this agent offers, sharing one client and one leftover sweep. */
export function createK8sProbes(options: K8sProbeOptions): Probe<unknown>[] {
  const runtime: K8sRuntime = {
    client: options.client,
    sweeper: new Sweeper(options.client, options.sweepAgeMs ?? 15 * 60_000, options.onSweep),
    nsOf: (given) => given ?? options.defaultNamespace,
  };
  const families = new Set(options.families ?? (Object.keys(K8S_FAMILIES) as K8sFamily[]));
  return (Object.keys(CREATE) as K8sFamily[])
    .filter((f) => families.has(f))
    .map((f) => CREATE[f](runtime) as Probe<unknown>);
}
