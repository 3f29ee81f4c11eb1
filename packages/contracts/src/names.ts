import { z } from 'zod';

import { DNS_LABEL, DNS_LABEL_RULE, DNS_SUBDOMAIN, DNS_SUBDOMAIN_RULE } from './dns-names.ts';

/** A Kubernetes namespace or a cluster name: an RFC 1123 label. */
export const DnsLabel = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(DNS_LABEL, DNS_LABEL_RULE);

/** A Kubernetes object name or node name: an RFC 1123 subdomain. */
export const DnsSubdomain = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(DNS_SUBDOMAIN, DNS_SUBDOMAIN_RULE);

export const ClusterName = DnsLabel;
export type ClusterName = z.infer<typeof ClusterName>;

/** A test's identity across the fleet. */
export type TestKey = { cluster: string; namespace: string; name: string };

/** A test's identity as text: `cluster/namespace/name`. */
export function testKeyString(key: TestKey): string {
  return `${key.cluster}/${key.namespace}/${key.name}`;
}
