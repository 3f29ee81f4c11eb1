export * from './agents.ts';
export * from './assignments.ts';
export * from './clusters.ts';
export * from './latest.ts';
export * from './remedies.ts';
export * from './runs.ts';
export * from './tests.ts';
export * from './tokens.ts';
