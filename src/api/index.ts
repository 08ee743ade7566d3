export { BODY_LIMIT, buildApp, type AppOptions } from './app.js';
export { defaultHttpLimits, type HttpLimits, type RateCounter } from './limits.js';
