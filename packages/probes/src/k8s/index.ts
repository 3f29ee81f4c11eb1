export * from './client.ts';
export * from './probes.ts';
export * from './steps.ts';
