export {
  AccessKeyError,
  AccessKeys,
  BOOTSTRAP_KEY_ID,
  DEFAULT_APP,
  MIN_BOOTSTRAP_KEY_LENGTH,
  type AccessKeysOptions,
  type Authentication,
  type KeyInfo,
  type Principal,
} from './access-keys.js';
export { AuditLog } from './audit-log.js';
export { credentialOf, type Credential } from './credentials.js';
export { grants, isScope, SCOPES, type RouteAccess, type Scope } from './scopes.js';
