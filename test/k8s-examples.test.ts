/**
 * The Kubernetes examples (infra/examples/kubernetes/) are valid everywhere they go: the API's
 * schema, the CRD's schema and their probe's own config schema; the pod, namespace and API ones
 * also pass against the Kubernetes API double as they are written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SyntheticTest } from '@synthfleet/contracts';
import { createK8sProbes, createProbeSet, KubeClient, parseProbeConfig, runProbe } from '@synthfleet/probes';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startKubeApi } from './support/kube-api.ts';
import { NAMESPACE, SERVICE, startKubeController, WORKLOAD_RESOURCES } from './support/kube-controller.ts';
import { type Schema, validateAgainst } from './support/openapi-validate.ts';

const DIR = 'infra/examples/kubernetes';
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const crd = parseYaml(readFileSync('infra/crds/synthetictests.synthfleet.dev.yaml', 'utf8')) as {
  spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
};
const schema = crd.spec.versions[0]?.schema.openAPIV3Schema as Schema;

describe('Kubernetes examples', () => {
  it('cover every k8s plugin and both kinds of remedy', () => {
    const objects = files.map(
      (f) =>
        parseYaml(readFileSync(join(DIR, f), 'utf8')) as { spec: { plugin: string; remedy?: Record<string, unknown> } },
    );
    expect(new Set(objects.map((o) => o.spec.plugin))).toEqual(
      new Set(['k8sPod', 'k8sDeployment', 'k8sDns', 'k8sNamespace', 'k8sApi', 'httpPing']),
    );
    expect(objects.filter((o) => o.spec.remedy?.webhook)).toHaveLength(1);
    expect(objects.filter((o) => o.spec.remedy?.job)).toHaveLength(1);
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    for (const f of files) expect(readme, f).toContain(`\`${f}\``);
  });

  const probes = createK8sProbes({ client: new KubeClient({ server: 'http://127.0.0.1:1' }), defaultNamespace: 'x' });
  for (const file of files) {
    it(`${file}: valid for the API, the CRD and its probe`, async () => {
      const object = parseYaml(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>;
      const parsed = SyntheticTest.safeParse(object);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(validateAgainst(schema, object)).toEqual([]);
      const spec = parsed.data?.spec;
      const probe = probes.find((p) => p.plugin === spec?.plugin);
      if (probe) await expect(parseProbeConfig(probe.plugin, spec?.config, probe.config)).resolves.toBeDefined();
    });
  }

  it('pod-start, namespace-lifecycle and api-latency pass as written against the Kubernetes API double', async () => {
    const kube = await startKubeApi({ resources: WORKLOAD_RESOURCES });
    const controller = startKubeController(kube, { nodes: ['node-a'] });
    const client = new KubeClient({ server: kube.url, token: kube.token });
    try {
      for (const name of ['probes', 'default', 'kube-system']) kube.apply(NAMESPACE, { metadata: { name }, spec: {} });
      kube.apply(SERVICE, { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1' } });
      const set = createProbeSet({ canPing: false, k8s: { client, defaultNamespace: 'probes' } });
      for (const file of ['pod-start.yaml', 'namespace-lifecycle.yaml', 'api-latency.yaml']) {
        const { spec } = SyntheticTest.parse(parseYaml(readFileSync(join(DIR, file), 'utf8')));
        const r = await runProbe(set, spec.plugin, spec.config, {
          signal: AbortSignal.timeout(60_000),
          self: { agentId: 'a', node: 'node-a' },
          peers: [],
          timeoutMs: 60_000,
        });
        expect(r.details._error, file).toBeUndefined();
        expect(r.status, file).toBe('pass');
      }
    } finally {
      controller.stop();
      client.close();
      await kube.close();
    }
  });
});
