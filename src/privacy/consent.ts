/**
 * What a user allows of their behavioural data:
 * - `full`: stored, and used to personalize (them and, through the models, everyone);
 * - `analytics`: stored and counted in measurement (experiments, reports), never used to personalize anyone:
 *   not trained on, not in live profiles, and the user gets the non-personalized list;
 * - `none`: not stored at all; the user gets the non-personalized list.
 */
export const CONSENTS = ['full', 'analytics', 'none'] as const;
export type Consent = (typeof CONSENTS)[number];

export function isConsent(value: unknown): value is Consent {
  return typeof value === 'string' && (CONSENTS as readonly string[]).includes(value);
}

/** Whether the user's data may shape what anyone is shown. */
export const personalizes = (consent: Consent): boolean => consent === 'full';

/** Whether the user's events may be stored at all. */
export const stores = (consent: Consent): boolean => consent !== 'none';

/**
 * Which users' events a training run may learn from: the default consent and every user whose recorded
 * consent differs from it.
 */
export class ConsentFilter {
  constructor(
    readonly defaultConsent: Consent,
    private readonly recorded: ReadonlyMap<string, Consent>,
  ) {}

  consentOf(userId: string): Consent {
    return this.recorded.get(userId) ?? this.defaultConsent;
  }

  personalizes(userId: string): boolean {
    return personalizes(this.consentOf(userId));
  }

  /** The recorded consents, read once: for a job over the whole log (training, churn, segments, exports). */
  static async read(
    store: { listConsents(except: Consent): Promise<Map<string, Consent>> },
    defaultConsent: Consent,
  ): Promise<ConsentFilter> {
    return new ConsentFilter(defaultConsent, await store.listConsents(defaultConsent));
  }

  /** The events of users who let them personalize, batch by batch: what batch jobs may learn from. */
  async *personalEvents<E extends { readonly userId: string }>(
    batches: AsyncIterable<readonly E[]>,
  ): AsyncGenerator<E[]> {
    for await (const batch of batches) {
      const kept = batch.filter((event) => this.personalizes(event.userId));
      if (kept.length > 0) yield kept;
    }
  }
}
