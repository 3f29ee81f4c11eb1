import type { Peer } from '@synthfleet/contracts';
import type { ProbeContext } from '../types.ts';

export function probeContext(over: Partial<ProbeContext> = {}): ProbeContext {
  return {
    signal: over.signal ?? AbortSignal.timeout(10_000),
    self: over.self ?? { agentId: 'agent-self', node: 'node-self' },
    peers: over.peers ?? ([] as Peer[]),
    timeoutMs: over.timeoutMs ?? 5_000,
  };
}
