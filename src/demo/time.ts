export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** A fixed default end of the simulated period, so the default shop is the same on every run. */
export const DEFAULT_DEMO_END = Date.UTC(2026, 10, 1); // 2026-11-01T00:00:00Z
