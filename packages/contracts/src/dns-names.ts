/* Kubernetes names as plain checks: names.ts builds the schemas from them, the agent's start reads them without zod. */

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_RULE = 'must be lowercase letters, digits and "-", starting and ending with a letter or digit';
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN_RULE =
  'must be lowercase letters, digits, "-" and ".", starting and ending with a letter or digit';

/** What is wrong with `name` as an RFC 1123 label (a namespace, a cluster), or undefined. */
export function dnsLabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return 'must be at most 63 characters';
  return DNS_LABEL.test(name) ? undefined : DNS_LABEL_RULE;
}

/** What is wrong with `name` as an RFC 1123 subdomain (an object or node name), or undefined. */
export function dnsSubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return 'must be at most 253 characters';
  return DNS_SUBDOMAIN.test(name) ? undefined : DNS_SUBDOMAIN_RULE;
}
