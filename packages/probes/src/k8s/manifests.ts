import type { DeploymentConfig } from './deployment.ts';
import type { PodConfig } from './pod.ts';
import { probeLabels } from './steps.ts';

/* The objects the probes create, each labelled so the startup sweep finds leftovers. */

export function podManifest(name: string, agentNode: string, run: string, config: PodConfig, node: string | undefined) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: probeLabels('k8sPod', agentNode, run) },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(node
        ? {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
                },
              },
            },
          }
        : {}),
      ...(config.tolerations ? { tolerations: config.tolerations } : {}),
      ...(config.priorityClassName ? { priorityClassName: config.priorityClassName } : {}),
      ...(config.imagePullSecrets ? { imagePullSecrets: config.imagePullSecrets.map((n) => ({ name: n })) } : {}),
      securityContext: { runAsNonRoot: true, runAsUser: 65535, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'pause',
          image: config.image,
          resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { memory: '16Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}

/**
 * The deployment's one container. The image update sends it whole again: a merge patch replaces
 * the containers list, so anything left out (the readiness probe, limits, security context) would
 * be dropped from the rolled-out pods.
 */
export function appContainer(config: DeploymentConfig, image: string) {
  return {
    name: 'app',
    image,
    args: config.args,
    ports: [{ containerPort: config.port }],
    readinessProbe: { httpGet: { path: config.path, port: config.port }, periodSeconds: 2 },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

export function deploymentManifest(
  name: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  config: DeploymentConfig,
) {
  const term = { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' };
  const affinity =
    config.antiAffinity === 'required'
      ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } }
      : config.antiAffinity === 'preferred'
        ? {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }],
            },
          }
        : undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: config.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...labels, ...selector } },
        spec: {
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(affinity ? { affinity } : {}),
          ...(config.tolerations ? { tolerations: config.tolerations } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: 65535, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [appContainer(config, config.image)],
        },
      },
    },
  };
}

export function serviceManifest(
  name: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  port: number,
) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels },
    spec: { selector, ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }] },
  };
}
