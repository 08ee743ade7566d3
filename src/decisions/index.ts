/**
 * Decisions: contextual-bandit decision points. `ope/` estimates a candidate policy's value from logged
 * decisions (IPS, SNIPS, doubly robust, with intervals); `learners/` holds the bandit learners it replays.
 */
export * from './ope/index.js';
export * from './learners/index.js';
export * from './notify/index.js';
export * from './points/index.js';
