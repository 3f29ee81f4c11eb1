/**
 * Validates a value against a CRD's openAPIV3Schema the way the API server does for the parts
 * the synthfleet CRD uses: type, properties, required, additionalProperties, items, enum,
 * pattern, minLength/maxLength, minimum, maxItems, maxProperties, anyOf,
 * x-kubernetes-preserve-unknown-fields and x-kubernetes-int-or-string, and the CRD's one CEL rule
 * shape `has(self.a) || has(self.b)`. Unknown fields are reported (the server would prune them).
 * Not modelled: other CEL rules, formats, defaults, nullable, oneOf/allOf/not.
 */
export type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maxItems?: number;
  maxProperties?: number;
  anyOf?: Schema[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  [k: string]: unknown;
};

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function validateAgainst(schema: Schema, value: unknown, path = ''): string[] {
  const errors: string[] = [];
  const at = path || '(root)';
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !Number.isInteger(value)) errors.push(`${at}: must be an integer or a string`);
  } else if (schema.type) {
    const t = typeOf(value);
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) return [`${at}: must be ${schema.type}, is ${t}`];
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: must be one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${at}: does not match ${schema.pattern}`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) errors.push(`${at}: too long`);
    if (schema.minLength !== undefined && [...value].length < schema.minLength) errors.push(`${at}: too short`);
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum)
    errors.push(`${at}: below ${schema.minimum}`);
  if (schema.anyOf) {
    const any = schema.anyOf.some((s) => validateAgainst(s, value, path).length === 0);
    if (!any) errors.push(`${at}: matches none of the allowed forms`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${at}: too many items`);
    if (schema.items)
      for (const [i, v] of value.entries()) errors.push(...validateAgainst(schema.items, v, `${path}[${i}]`));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errors.push(`${path ? `${path}.` : ''}${r}: is required`);
    if (schema.maxProperties !== undefined && Object.keys(obj).length > schema.maxProperties)
      errors.push(`${at}: too many properties`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      const p = path ? `${path}.${k}` : k;
      if (sub) errors.push(...validateAgainst(sub, v, p));
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...validateAgainst(schema.additionalProperties, v, p));
      else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.properties) errors.push(`${p}: unknown field`);
    }
    for (const rule of schema['x-kubernetes-validations'] ?? []) {
      const m = /^has\(self\.(\w+)\) \|\| has\(self\.(\w+)\)$/.exec(rule.rule);
      if (!m) throw new Error(`CEL rule "${rule.rule}" is not modelled`);
      if (!((m[1] as string) in obj) && !((m[2] as string) in obj)) errors.push(`${at}: ${rule.message}`);
    }
  }
  return errors;
}

/**
 * The API server's structural-schema rules: every level states its type (or preserves unknown
 * fields, or is int-or-string), and anyOf branches add no properties of their own.
 */
export function structuralProblems(schema: Schema, path = ''): string[] {
  const problems: string[] = [];
  const at = path || '(root)';
  if (!schema.type && !schema['x-kubernetes-preserve-unknown-fields'] && !schema['x-kubernetes-int-or-string'])
    problems.push(`${at}: has no type`);
  for (const [k, v] of Object.entries(schema.properties ?? {})) problems.push(...structuralProblems(v, `${path}.${k}`));
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object')
    problems.push(...structuralProblems(schema.additionalProperties, `${path}.*`));
  for (const s of schema.anyOf ?? []) if (s.properties) problems.push(`${at}: anyOf branch declares properties`);
  return problems;
}
