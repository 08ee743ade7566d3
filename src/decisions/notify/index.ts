export * from './hours.js';
export * from './model.js';
export * from './evaluate.js';
export * from './policy.js';
export * from './service.js';
export * from './population.js';
