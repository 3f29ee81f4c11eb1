import type { RunResult } from '@synthfleet/contracts';
import { probeSetOf } from '@synthfleet/probes';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { describe, expect, it, vi } from 'vitest';
import { TestRunner } from './runner.ts';
import { Semaphore } from './semaphore.ts';
import { Supervisor } from './supervisor.ts';
import { assigned, quietLogger, scriptedProbes } from './testing/fixtures.ts';

function setup(limit = 4) {
  const { probes, stats } = scriptedProbes();
  const results: RunResult[] = [];
  const limiter = new Semaphore(limit);
  const statuses = new Map<string, RunResult['status']>();
  const deps = {
    probes,
    limiter,
    self: () => ({ agentId: 'a1', node: 'n1' }),
    peers: () => [],
    statusOf: (ns: string, name: string) => statuses.get(`${ns}/${name}`),
    onResult: (_t: unknown, run: RunResult) => {
      results.push(run);
      statuses.set(`${run.namespace}/${run.name}`, run.status);
    },
    logger: quietLogger,
    random: () => 0,
  };
  return { deps, results, stats, limiter, statuses };
}

describe('test runner', () => {
  it('cuts off a probe that ignores its signal at timeouts.run, records timeout and frees the slot', async () => {
    const { deps, results, limiter } = setup(1);
    const r = new TestRunner(
      assigned('hangs', { plugin: 'exec', repeat: '1m', timeouts: { run: '200ms' }, config: { outcome: 'hang' } }),
      deps,
    );
    await r.execute();
    expect(results[0]).toMatchObject({ status: 'timeout', name: 'hangs', marks: 0 });
    expect(results[0]?.details?._error).toContain('run exceeded timeouts.run (200ms)');
    expect(limiter.available).toBe(1);
  });

  it('never runs more probes at once than the cap', async () => {
    const { deps, stats, results } = setup(2);
    const runners = Array.from(
      { length: 6 },
      (_, i) => new TestRunner(assigned(`t${i}`, { plugin: 'exec', repeat: '1m', config: { ms: 50 } }), deps),
    );
    await Promise.all(runners.map((r) => r.execute()));
    expect(stats.maxRunning).toBe(2);
    expect(results.filter((r) => r.status === 'pass')).toHaveLength(6);
  });

  it('skips a test while a dependency fails, and runs it again once the dependency passes', async () => {
    const { deps, results, statuses, stats } = setup();
    const r = new TestRunner(assigned('app', { plugin: 'exec', repeat: '1m', dependsOn: ['db'] }), deps);
    statuses.set('default/db', 'fail');
    await r.execute();
    expect(results.at(-1)).toMatchObject({ status: 'skipped' });
    expect(results.at(-1)?.details?._log).toContain('dependency "db" is failing');
    expect(stats.started).toBe(0);
    statuses.set('default/db', 'pass');
    await r.execute();
    expect(results.at(-1)).toMatchObject({ status: 'pass' });
  });

  it('cancels a run under way on stop and reports nothing for it', async () => {
    const { deps, results, limiter } = setup(1);
    const r = new TestRunner(assigned('slow', { plugin: 'exec', repeat: '1m', config: { outcome: 'hang' } }), deps);
    const pending = r.execute();
    await new Promise((res) => setTimeout(res, 50));
    await r.stop();
    await pending;
    expect(results).toEqual([]);
    expect(limiter.available).toBe(1);
  });

  it('runs on its cadence: first at the random offset, then every repeat', async () => {
    const { deps, results } = setup();
    const r = new TestRunner(assigned('tick', { plugin: 'exec', repeat: '1s' }), deps);
    r.start();
    await waitFor(() => results.length >= 2, 5000, 'results.length toBeGreaterThanOrEqual(2)');
    await r.stop();
    const [a, b] = results;
    expect(Date.parse(b?.startTime ?? '') - Date.parse(a?.startTime ?? '')).toBeGreaterThanOrEqual(900);
  });

  it('builds a result the API accepts even when the probe sends a gauge it would reject', async () => {
    const { deps, results } = setup();
    deps.probes = probeSetOf({
      plugin: 'exec',
      config: (await import('zod')).z.object({}),
      run: async () => ({ marks: 1, maxMarks: 1, log: ['ok'], gauges: [{ name: 'bad name!', value: 1 }] }),
    });
    await new TestRunner(assigned('g', { plugin: 'exec', repeat: '1m' }), deps).execute();
    expect(results[0]?.gauges).toBeUndefined();
    expect(results[0]?.details?._error).toContain('did not validate');
  });
});

describe('supervisor', () => {
  it('starts new tests, restarts changed ones with the new config, stops removed ones', async () => {
    const { probes, stats } = scriptedProbes();
    const removed: string[] = [];
    const sup = new Supervisor({
      probes,
      limiter: new Semaphore(4),
      self: () => ({ agentId: 'a1', node: 'n1' }),
      onResult: () => {},
      onRemoved: (t) => removed.push(t.name),
      logger: quietLogger,
      random: () => 0,
    });
    const a = assigned('a', { plugin: 'exec', repeat: '1m', config: { ms: 1 } });
    const b = assigned('b', { plugin: 'exec', repeat: '1m' });
    expect(await sup.apply({ agentId: 'a1', version: 1, tests: [a, b], peers: [] })).toEqual({
      started: 2,
      restarted: 0,
      stopped: 0,
    });
    await waitFor(() => stats.started === 2, 15_000, 'stats.started toBe(2)');
    const a2 = assigned('a', { plugin: 'exec', repeat: '1m', config: { ms: 2 } }, 2);
    expect(await sup.apply({ agentId: 'a1', version: 2, tests: [a2], peers: [] })).toEqual({
      started: 0,
      restarted: 1,
      stopped: 1,
    });
    expect(removed).toEqual(['b']);
    await waitFor(() => stats.started === 3, 15_000, 'stats.started toBe(3)');
    expect(stats.configs.at(-1)).toEqual({ outcome: 'pass', ms: 2 });
    expect(sup.tests().map((t) => t.revision)).toEqual([2]);
    await sup.stopAll(0);
  });

  it('spreads the first assignment over each period, but runs tests that change or arrive later within the change spread', async () => {
    // Fake timers: the hour-long waits are timers the test moves by hand, not real time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    const { probes, stats } = scriptedProbes();
    const sup = new Supervisor({
      probes,
      limiter: new Semaphore(4),
      self: () => ({ agentId: 'a1', node: 'n1' }),
      onResult: () => {},
      onRemoved: () => {},
      logger: quietLogger,
      // The latest point of every window: an hourly test's first run is 59 minutes away.
      random: () => 0.99,
      changeSpreadMs: 300,
    });
    const hourly = (name: string, ms: number, revision = 1) =>
      assigned(name, { plugin: 'exec', repeat: '1h', config: { ms } }, revision);
    await sup.apply({ agentId: 'a1', version: 1, tests: [hourly('kept', 1), hourly('edited', 1)], peers: [] });
    await vi.advanceTimersByTimeAsync(1000);
    expect(stats.started).toBe(0);
    await sup.apply({
      agentId: 'a1',
      version: 2,
      tests: [hourly('kept', 1), hourly('edited', 2, 2), hourly('added', 3)],
      peers: [],
    });
    // The edited and the added test run within the spread; the unchanged one keeps its slot.
    await vi.advanceTimersByTimeAsync(300);
    expect(stats.started).toBe(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(stats.started).toBe(2);
    expect((stats.configs as { ms: number }[]).map((c) => c.ms).sort()).toEqual([2, 3]);
    await sup.stopAll(0);
    vi.useRealTimers();
  });

  it('runs a test once more on a new Run now request, tagged manual, without moving its cadence', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    const { probes, stats } = scriptedProbes();
    const results: RunResult[] = [];
    const sup = new Supervisor({
      probes,
      limiter: new Semaphore(4),
      self: () => ({ agentId: 'a1', node: 'n1' }),
      onResult: (_t, run) => results.push(run),
      onRemoved: () => {},
      logger: quietLogger,
      random: () => 0.99,
    });
    const hourly = (runRequest?: { id: string; requestedAt: string }) => ({
      ...assigned('web', { plugin: 'exec', repeat: '1h', config: { ms: 1 } }),
      ...(runRequest ? { runRequest } : {}),
    });
    // An old request in the first assignment (an agent restarting) is not run again.
    const old = { id: 'req-old', requestedAt: new Date(Date.now() - 30_000).toISOString() };
    await sup.apply({ agentId: 'a1', version: 1, tests: [hourly(old)], peers: [] });
    await vi.advanceTimersByTimeAsync(1000);
    expect(stats.started).toBe(0);
    const fresh = { id: 'req-1', requestedAt: new Date().toISOString() };
    await sup.apply({ agentId: 'a1', version: 2, tests: [hourly(fresh)], peers: [] });
    await vi.advanceTimersByTimeAsync(50);
    expect(stats.started).toBe(1);
    expect(results.map((r) => r.trigger)).toEqual([{ type: 'manual' }]);
    // The same request again (another change woke the agent) runs nothing more.
    await sup.apply({ agentId: 'a1', version: 3, tests: [hourly(fresh)], peers: [] });
    await vi.advanceTimersByTimeAsync(50);
    expect(stats.started).toBe(1);
    // The hourly cadence is where it was: its first timer run comes at 59.4 minutes.
    await vi.advanceTimersByTimeAsync(58 * 60_000);
    expect(results).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(results.map((r) => r.trigger?.type)).toEqual(['manual', 'timer']);
    await sup.stopAll(0);
    vi.useRealTimers();
  });

  it('queues a Run now that arrives while a run is under way, and never overlaps runs', async () => {
    const { deps, results, stats } = setup();
    const r = new TestRunner(assigned('slow', { plugin: 'exec', repeat: '1h', config: { ms: 100 } }), deps);
    r.runNow();
    r.runNow(); // under way: queued once
    r.runNow(); // still one queued
    await waitFor(() => results.length === 2, 5000, 'two runs');
    await new Promise((res) => setTimeout(res, 200));
    expect(results.map((x) => x.trigger?.type)).toEqual(['manual', 'manual']);
    expect(stats.maxRunning).toBe(1);
    await r.stop();
  });
});
