/**
 * SyntheticTest objects in synthetic-heart's group, written by this project to exercise every
 * field of synthetic-heart's example manifests (`chart/synthetic-tests/templates/` of
 * cisco-open/synthetic-heart at commit 500284980fd7): empty timeouts, `$` and omitted node
 * selectors, podLabelSelector with pod labels and the special keys, dependsOn, importance,
 * pluginRestartPolicy, logWaitTime, a YAML string config, object labels, curl's outputOptions and
 * a Python plugin no agent here offers.
 */
import type { SyntheticTestInput } from '@synthfleet/contracts';

const SH = 'synheart.infra.webex.com/v1';

export const shFixtures = {
  httpPing: {
    apiVersion: SH,
    kind: 'SyntheticTest',
    metadata: { name: 'http-ping-local', namespace: 'synthetic-heart', labels: { infra: 'true' } },
    spec: {
      plugin: 'httpPing',
      node: '*',
      displayName: 'HTTP ping (local)',
      description: 'pings a local endpoint',
      importance: 'high',
      repeat: '1m',
      timeouts: { init: '', run: '30s', finish: '' },
      pluginRestartPolicy: 'always',
      logWaitTime: '15ms',
      config: 'address: http://127.0.0.1:9/\nexpectedCodeRegex: ^2\n',
    },
  },
  dns: {
    apiVersion: SH,
    kind: 'SyntheticTest',
    metadata: { name: 'dns-check', namespace: 'synthetic-heart' },
    spec: {
      plugin: 'dns',
      node: '$',
      displayName: 'DNS check',
      description: 'resolves names',
      importance: 'critical',
      repeat: '30s',
      timeouts: { init: '', finish: '' },
      dependsOn: ['http-ping-local'],
      config: 'domains: [localhost]\nrepeats: 2\n',
    },
  },
  edgeOnly: {
    apiVersion: SH,
    kind: 'SyntheticTest',
    metadata: { name: 'edge-only', namespace: 'synthetic-heart' },
    spec: { plugin: 'netDial', repeat: '1m', podLabelSelector: { tier: 'edge-*' }, config: 'addresses: []\n' },
  },
  otherNamespace: {
    apiVersion: SH,
    kind: 'SyntheticTest',
    metadata: { name: 'other-namespace', namespace: 'synthetic-heart' },
    spec: {
      plugin: 'netDial',
      repeat: '1m',
      podLabelSelector: { $agentNamespace: 'some-other-namespace' },
      config: 'addresses: []\n',
    },
  },
  curl: {
    apiVersion: SH,
    kind: 'SyntheticTest',
    metadata: { name: 'curl-local', namespace: 'synthetic-heart', labels: { infra: 'true' } },
    spec: {
      plugin: 'curl',
      displayName: 'Curl metrics',
      repeat: '2m',
      timeouts: { run: '1m' },
      config:
        'url: http://127.0.0.1:9/\noutputOptions:\n  - name: time_namelookup\n    metric: true\n  - name: time_total\n    metric: true\n  - name: remote_ip\n    label: true\n',
    },
  },
  python: {
    apiVersion: SH,
    kind: 'SyntheticTest',
    metadata: { name: 'test-py', namespace: 'synthetic-heart', labels: { infra: 'true' } },
    spec: {
      plugin: 'json-ping.py',
      node: '$',
      displayName: 'Test Python Plugin',
      description: 'Test to check the python plugin',
      timeouts: { run: '1m' },
      repeat: '20s',
      config: '',
    },
  },
} satisfies Record<string, SyntheticTestInput>;
