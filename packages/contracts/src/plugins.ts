/* The plugin names, apart from the schemas: the agent's idle start reads them without zod. */

/** Plugins the control plane knows. An agent may still lack one: it then reports an error result. */
export const PLUGINS = [
  'httpPing',
  'dns',
  'netDial',
  'ping',
  'heartbeat',
  'exec',
  'curl',
  'k8sPod',
  'k8sDeployment',
  'k8sDns',
  'k8sNamespace',
  'k8sApi',
] as const;
/** The Kubernetes check families an operator turns on (each needs its own RBAC), and their plugin. */
export const K8S_FAMILIES = {
  pod: 'k8sPod',
  deployment: 'k8sDeployment',
  dns: 'k8sDns',
  namespace: 'k8sNamespace',
  api: 'k8sApi',
} as const satisfies Record<string, (typeof PLUGINS)[number]>;
export type K8sFamily = keyof typeof K8S_FAMILIES;
export const K8S_FAMILY_NAMES = Object.keys(K8S_FAMILIES) as [K8sFamily, ...K8sFamily[]];
