export * from './agent.ts';
export * from './cluster.ts';
export * from './heatmap.ts';
export * from './overview.ts';
export * from './shared.ts';
export * from './test.ts';
export * from './version.ts';
