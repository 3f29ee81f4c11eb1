export * from './client.ts';
export * from './connection-error.ts';
export * from './schema/index.ts';
