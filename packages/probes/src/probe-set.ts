import { K8S_FAMILIES, type Plugin } from '@synthfleet/contracts';
import type { K8sProbeOptions } from './k8s/probes.ts';
import { pingBinary } from './process.ts';
import type { Probe } from './types.ts';

export type ProbeSetOptions = {
  /** Programs the exec probe may run; without any, this agent does not offer exec. */
  execAllow?: readonly string[];
  /** Environment variable names an exec spec may set (see ExecOptions.envAllow). */
  execEnvAllow?: readonly string[];
  /** Whether the system can ping; detected when not given. */
  canPing?: boolean;
  /** Kubernetes access: the agent then offers the k8s probes of the families allowed. */
  k8s?: K8sProbeOptions;
};

// biome-ignore lint/suspicious/noExplicitAny: each probe's config type is its own; the set is keyed by plugin
export type AnyProbe = Probe<any>;

/**
 * The probes an agent offers, by plugin: each loads (its module, its config schema and what it
 * needs) the first time a run asks for it, so an agent holds only the families its tests use. The
 * keys are the capabilities it registers with.
 */
export type ProbeSet = ReadonlyMap<Plugin, () => Promise<AnyProbe>>;

/** A loader that imports once; a failed import is tried again next time. */
function once(load: () => Promise<AnyProbe>): () => Promise<AnyProbe> {
  let loading: Promise<AnyProbe> | undefined;
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
}

/** A set of probes already at hand (tests, fixtures). */
export function probeSetOf(...probes: AnyProbe[]): ProbeSet {
  return new Map(probes.map((p) => [p.plugin, () => Promise.resolve(p)]));
}

/** The probes this agent can run; their plugins are the capabilities it registers with. */
export function createProbeSet(options: ProbeSetOptions = {}): ProbeSet {
  const set = new Map<Plugin, () => Promise<AnyProbe>>([
    ['httpPing', once(async () => (await import('./http-ping.ts')).httpPing)],
    ['dns', once(async () => (await import('./dns.ts')).dnsProbe)],
    ['netDial', once(async () => (await import('./net-dial.ts')).netDial)],
    ['heartbeat', once(async () => (await import('./heartbeat.ts')).heartbeat)],
    ['curl', once(async () => (await import('./curl.ts')).curl)],
  ]);
  if (options.canPing ?? pingBinary() !== undefined)
    set.set(
      'ping',
      once(async () => (await import('./ping.ts')).ping),
    );
  const { execAllow, execEnvAllow } = options;
  if (execAllow && execAllow.length > 0)
    set.set(
      'exec',
      once(async () => (await import('./exec.ts')).createExecProbe({ allow: execAllow, envAllow: execEnvAllow })),
    );
  const k8s = options.k8s;
  if (k8s) {
    // The families share one client and one leftover sweep: they load together.
    let all: Promise<Map<Plugin, AnyProbe>> | undefined;
    const loadAll = () => {
      all ??= import('./k8s/probes.ts').then(
        (m) => new Map(m.createK8sProbes(k8s).map((p) => [p.plugin, p])),
        (err: unknown) => {
          all = undefined;
          throw err;
        },
      );
      return all;
    };
    const families = k8s.families ?? (Object.keys(K8S_FAMILIES) as (keyof typeof K8S_FAMILIES)[]);
    for (const family of families) {
      const plugin = K8S_FAMILIES[family];
      set.set(
        plugin,
        once(async () => (await loadAll()).get(plugin) as AnyProbe),
      );
    }
  }
  return set;
}
