import type { EpochMs } from './types.js';

/**
 * Where the engine reads the time: events' receiving time and future limit, exposures, reports, the
 * created time of items and users. Production reads the system clock; `attune simulate` runs the engine
 * on a clock it moves through simulated days, so that a month of traffic takes minutes and every window
 * (a conversion within 7 days, retention on day 7) is measured as it would be in real time.
 */
export type Clock = () => EpochMs;

export const systemClock: Clock = () => Date.now();
