export { BODY_LIMIT, buildApp, type AppOptions } from './app.js';
