export * from './api.ts';
export * from './backoff.ts';
export * from './duration.ts';
export * from './env.ts';
export * from './errors.ts';
export * from './names.ts';
export * from './node-selector.ts';
export * from './synthetic-test.ts';
