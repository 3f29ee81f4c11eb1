import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubeApi } from '@synthfleet/test-support/kube-api.ts';
import { type Pushgateway, startPushgateway } from '@synthfleet/test-support/pushgateway.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDepartedNodesJanitor } from './departed-nodes.ts';
import { createLogger } from './logger.ts';
import { createNodeLister } from './sources/nodes.ts';

let gw: Pushgateway;
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(() => gw?.stop());

async function push(cluster: string, instance: string) {
  const res = await fetch(`${gw.url}/metrics/job/synthfleet/cluster/${cluster}/instance/${instance}`, {
    method: 'PUT',
    body: '# TYPE synthfleet_agent_registered gauge\nsynthfleet_agent_registered 1\n',
  });
  expect(res.ok).toBe(true);
}

const groups = async () =>
  [...(await gw.metrics()).matchAll(/push_time_seconds\{cluster="([^"]+)",instance="([^"]+)",job="synthfleet"\}/g)]
    .map((m) => `${m[1]}/${m[2]}`)
    .sort();

describe('departed nodes janitor', () => {
  it("removes the groups of this cluster's nodes that left, and nothing else", async () => {
    for (const n of ['node-a', 'node-b', 'node-old']) await push('edge-1', n);
    await push('edge-2', 'node-old');
    let nodes: string[] | undefined = ['node-a', 'node-b'];
    const janitor = createDepartedNodesJanitor({
      gatewayUrl: gw.url,
      cluster: () => 'edge-1',
      listNodes: async () => nodes,
      logger: createLogger('silent'),
      everyMs: 60_000,
    });
    expect(await janitor.sweep()).toEqual(['node-old']);
    expect(await groups()).toEqual(['edge-1/node-a', 'edge-1/node-b', 'edge-2/node-old']);
    // Nodes that cannot be listed, or none at all, delete nothing: that is a problem, not a cluster.
    nodes = undefined;
    expect(await janitor.sweep()).toEqual([]);
    nodes = [];
    expect(await janitor.sweep()).toEqual([]);
    expect(await groups()).toEqual(['edge-1/node-a', 'edge-1/node-b', 'edge-2/node-old']);
  });

  it("lists the cluster's Nodes through the Kubernetes API, and nothing when it may not", async () => {
    const kube = await startKubeApi({ resources: ['core/v1/nodes'] });
    const dir = mkdtempSync(join(tmpdir(), 'synthfleet-nodes-'));
    try {
      for (const name of ['node-a', 'node-b']) kube.apply('core/v1/nodes', { metadata: { name }, spec: {} });
      const config = new KubeConfig();
      config.loadFromFile(kube.writeKubeconfig(dir));
      const list = createNodeLister(config, createLogger('silent'));
      expect((await list())?.sort()).toEqual(['node-a', 'node-b']);
      kube.forbid('core/v1/nodes');
      expect(await list()).toBeUndefined();
    } finally {
      await kube.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
