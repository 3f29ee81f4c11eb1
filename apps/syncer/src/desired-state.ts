import { SYNTHFLEET_API_VERSION } from '@synthfleet/contracts';
import { type Checked, checkObject, sameContent } from './objects.ts';

/**
 * What the sources say exists, by group and key. Every change reports the keys it touched so the
 * queue can mirror them. When both groups hold the same namespace/name (a cluster moving from
 * synthetic-heart), the synthfleet.dev object wins and the other is reported as shadowed.
 */
export function createDesiredState(onChange: (key: string) => void) {
  /** apiVersion → key → checked object */
  const groups = new Map<string, Map<string, Checked>>();

  function group(apiVersion: string) {
    let g = groups.get(apiVersion);
    if (!g) {
      g = new Map();
      groups.set(apiVersion, g);
    }
    return g;
  }

  function put(apiVersion: string, checked: Checked) {
    const g = group(apiVersion);
    const before = g.get(checked.key);
    g.set(checked.key, checked);
    if (!before || !sameContent(before, checked)) onChange(checked.key);
  }

  function effective(key: string): Checked | undefined {
    const own = groups.get(SYNTHFLEET_API_VERSION)?.get(key);
    if (own) return own;
    for (const [apiVersion, g] of groups) {
      if (apiVersion === SYNTHFLEET_API_VERSION) continue;
      const c = g.get(key);
      if (c) return c;
    }
    return undefined;
  }

  return {
    /** An object was added or changed. Returns the check, or undefined for a nameless object. */
    upsert(apiVersion: string, raw: unknown): Checked | undefined {
      const checked = checkObject(raw, apiVersion);
      if (checked) put(apiVersion, checked);
      return checked;
    },
    remove(apiVersion: string, namespace: string, name: string) {
      const key = `${namespace}/${name}`;
      if (groups.get(apiVersion)?.delete(key)) onChange(key);
    },
    /**
     * A full list of one group within one namespace (null: all namespaces) replaces what was held
     * there: a relist after a 410 adds what is new, changes what changed and removes what is gone,
     * and touches nothing else.
     */
    replace(apiVersion: string, namespace: string | null, raws: readonly unknown[]) {
      const g = group(apiVersion);
      const seen = new Set<string>();
      for (const raw of raws) {
        const checked = checkObject(raw, apiVersion);
        if (!checked) continue;
        seen.add(checked.key);
        put(apiVersion, checked);
      }
      for (const [key, c] of g) {
        if (seen.has(key) || (namespace !== null && c.namespace !== namespace)) continue;
        g.delete(key);
        onChange(key);
      }
    },
    effective,
    /** Whether this object is hidden by another group's object of the same name. */
    shadowedBy(checked: Checked): string | undefined {
      const winner = effective(checked.key);
      return winner && winner.apiVersion !== checked.apiVersion ? winner.apiVersion : undefined;
    },
    /** Every object of every group (shadowed ones too), for the status write-back. */
    all(): Checked[] {
      return [...groups.values()].flatMap((g) => [...g.values()]);
    },
    keys(): Set<string> {
      return new Set([...groups.values()].flatMap((g) => [...g.keys()]));
    },
    /** What a full snapshot sends: the winning object of every key, valid ones only. */
    snapshotItems(): { key: string; hash: string; object: Record<string, unknown> }[] {
      const out = [];
      for (const key of [...this.keys()].sort()) {
        const c = effective(key);
        if (c?.valid) out.push({ key, hash: c.hash, object: c.object });
      }
      return out;
    },
    /** The winning objects that are not valid, with why: a snapshot reports them. */
    invalidItems(): { key: string; namespace: string; name: string; reason: string }[] {
      const out = [];
      for (const key of [...this.keys()].sort()) {
        const c = effective(key);
        if (c && !c.valid) out.push({ key, namespace: c.namespace, name: c.name, reason: c.message });
      }
      return out;
    },
  };
}
export type DesiredState = ReturnType<typeof createDesiredState>;
