import { forbidden, notFound } from '../errors.ts';
import type { Principal } from './context.ts';

/** Cluster tokens see only their own cluster; other clusters do not exist for them (404, not 403). */
export function canSeeCluster(principal: Principal, cluster: string): boolean {
  return principal.role !== 'cluster' || principal.cluster === cluster;
}

export function assertCanRead(principal: Principal, cluster: string, what = `cluster "${cluster}"`): void {
  if (!canSeeCluster(principal, cluster)) throw notFound(`${what} was not found`);
}

export function assertCanWrite(principal: Principal, cluster: string, what = `cluster "${cluster}"`): void {
  assertCanRead(principal, cluster, what);
  if (principal.role === 'viewer') throw forbidden('viewer tokens cannot change anything');
  if (principal.readOnly) throw forbidden('reads without a token cannot change anything');
}

export function assertAdmin(principal: Principal): void {
  if (principal.role !== 'admin') {
    if (principal.role === 'cluster') throw notFound('not found');
    throw forbidden('this needs an admin token');
  }
}

/** The clusters a principal's list queries are limited to, or null for all. */
export function visibleClusters(principal: Principal, requested?: string): string | null {
  if (principal.role === 'cluster') {
    if (requested !== undefined && requested !== principal.cluster) return '\u0000none';
    return principal.cluster;
  }
  return requested ?? null;
}
