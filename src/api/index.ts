export { BODY_LIMIT, buildApp, type AppOptions } from './app.js';
export { defaultHttpLimits, type HttpLimits } from './limits.js';
