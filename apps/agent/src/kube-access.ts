import { KubeClient, kubeAccessFromEnv } from '@synthfleet/probes/k8s/client';
import { errorMessage } from '@synthfleet/probes/util';
import type { AgentEnv } from './env.ts';
import type { Logger } from './logger.ts';

/** The Kubernetes client for k8s probes and Job remedies, when this agent is asked for either. */
export function kubeClientFor(env: AgentEnv, processEnv: Record<string, string | undefined>, logger: Logger) {
  if (env.K8S_PROBES.length === 0 && !env.K8S_REMEDY_JOBS) return undefined;
  try {
    const access = kubeAccessFromEnv({
      K8S_API_SERVER: env.K8S_API_SERVER,
      K8S_TOKEN_FILE: env.K8S_TOKEN_FILE,
      K8S_CA_FILE: env.K8S_CA_FILE,
      KUBERNETES_SERVICE_HOST: processEnv.KUBERNETES_SERVICE_HOST,
      KUBERNETES_SERVICE_PORT: processEnv.KUBERNETES_SERVICE_PORT,
    });
    if (access) return new KubeClient(access);
    logger.error(
      {},
      'K8S_PROBES or K8S_REMEDY_JOBS is set but there is no Kubernetes API: set K8S_API_SERVER or run in a cluster',
    );
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'no Kubernetes access: k8s probes and Job remedies are off');
  }
  return undefined;
}
