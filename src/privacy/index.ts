export { ConsentFilter, CONSENTS, isConsent, personalizes, stores, type Consent } from './consent.js';
export {
  DEFAULT_PERSONAL_DATA_POLICY,
  redactPersonalData,
  type PersonalDataPolicy,
  type Redaction,
  type RedactionReason,
} from './personal-data.js';
