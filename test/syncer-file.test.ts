import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDetail, TestPage } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../apps/syncer/src/api-client.ts';
import { createLogger } from '../apps/syncer/src/logger.ts';
import { createFileSource } from '../apps/syncer/src/sources/file.ts';
import { createSyncer } from '../apps/syncer/src/syncer.ts';
import { type Api, startApi, startNode } from './support/processes.ts';
import { createTempDirs } from './support/temp-dirs.ts';
import { waitFor } from './support/wait.ts';

const temp = createTempDirs();
const tempDir = (prefix: string) => temp.make(prefix);

let api: Api;
beforeAll(async () => {
  api = await startApi({ dataDir: tempDir('synthfleet-filesync-api-') });
});
afterAll(async () => {
  await api?.stop();
  temp.removeAll();
});

const manifest = (name: string, extra = '', apiVersion = 'synthfleet.dev/v1') => `apiVersion: ${apiVersion}
kind: SyntheticTest
metadata:
  name: ${name}
  namespace: default
spec:
  plugin: httpPing
  repeat: 30s
  node: "*"
  config:
    address: http://127.0.0.1:9/
${extra}`;

async function names(cluster: string, token: string): Promise<string[]> {
  const r = await api.call(`/api/v1/tests?cluster=${cluster}`, { token });
  return TestPage.parse(r.json)
    .tests.map((t) => `${t.namespace}/${t.name}`)
    .sort();
}

async function specOf(cluster: string, token: string, key: string) {
  const r = await api.call(`/api/v1/tests/${cluster}/${key}`, { token });
  return r.status === 200 ? (TestDetail.parse(r.json).spec as Record<string, unknown>) : undefined;
}

describe('syncer file source', { timeout: 240_000 }, () => {
  it('mirrors a directory of manifests the same way: add, change, remove, broken files, invalid specs', async () => {
    const dir = tempDir('synthfleet-manifests-');
    mkdirSync(join(dir, 'team'));
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    writeFileSync(
      join(dir, 'team', 'more.yml'),
      `${manifest('dns', '', 'synheart.infra.webex.com/v1')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n`,
    );
    const cluster = `f-${crypto.randomUUID().slice(0, 8)}`;
    const token = await api.clusterToken(cluster);
    const logger = createLogger(process.env.SYNCER_TEST_LOG ?? 'silent');
    const syncer = createSyncer({
      api: createApiClient({ baseUrl: api.url, token }),
      source: createFileSource({
        dir,
        apiVersions: ['synthfleet.dev/v1', 'synheart.infra.webex.com/v1'],
        logger,
        pollMs: 300,
      }),
      logger,
      resyncMs: 60_000,
      statusMs: 60_000,
    });
    syncer.start();
    try {
      await waitFor(async () => (await names(cluster, token)).join() === 'default/dns,default/web');

      writeFileSync(join(dir, 'web.yaml'), manifest('web').replace('repeat: 30s', 'repeat: 2m'));
      await waitFor(async () => (await specOf(cluster, token, 'default/web'))?.repeat === '2m');

      // A half-saved file keeps its last good objects.
      writeFileSync(join(dir, 'web.yaml'), 'apiVersion: synthfleet.dev/v1\nkind: SyntheticTest\nmetadata: [oops\n');
      writeFileSync(join(dir, 'extra.yaml'), manifest('extra'));
      await waitFor(async () => (await names(cluster, token)).includes('default/extra'));
      expect(await names(cluster, token)).toContain('default/web');

      // An invalid spec does not reach the API; the others are untouched.
      writeFileSync(join(dir, 'bad.yaml'), manifest('bad').replace('plugin: httpPing', 'plugin: teleport'));
      unlinkSync(join(dir, 'team', 'more.yml'));
      await waitFor(async () => (await names(cluster, token)).join() === 'default/extra,default/web');
      await waitFor(() => syncer.health().invalid === 1);
    } finally {
      await syncer.stop();
    }
  });

  it('runs as a process with --dir, leaves out SYNCER_EXCLUDE subdirectories, and stops start-up on a bad variable with its name', async () => {
    const dir = tempDir('synthfleet-manifests-');
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    mkdirSync(join(dir, 'kubernetes', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'kubernetes', 'deep', 'pod.yaml'), manifest('pod'));
    mkdirSync(join(dir, 'kubernetes-too'));
    writeFileSync(join(dir, 'kubernetes-too', 'kept.yaml'), manifest('kept'));
    const cluster = `p-${crypto.randomUUID().slice(0, 8)}`;
    const token = await api.clusterToken(cluster);
    const bad = startNode(
      'apps/syncer/src/main.ts',
      { SYNTHFLEET_API_URL: 'not a url', SYNTHFLEET_TOKEN: token },
      'syncer',
    );
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/SYNTHFLEET_API_URL/);

    const proc = startNode(
      'apps/syncer/src/main.ts',
      {
        SYNTHFLEET_API_URL: api.url,
        SYNTHFLEET_TOKEN: token,
        HEALTH_PORT: '0',
        HEALTH_HOST: '127.0.0.1',
        SYNCER_EXCLUDE: './kubernetes/',
      },
      'syncer',
      ['--dir', dir],
    );
    try {
      await proc.waitForLog((l) => l.msg === 'snapshot applied', 120_000);
      expect(await names(cluster, token)).toEqual(['default/kept', 'default/web']);
    } finally {
      expect(await proc.stop()).toBe(0);
    }
  });
});
