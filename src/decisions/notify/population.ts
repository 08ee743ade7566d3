import type { Consent, ConsentFilter } from '../../privacy/index.js';
import type { Store } from '../../store/types.js';
import { startWorker } from '../../shared/worker.js';
import { chooseParameters, isActivity } from './evaluate.js';
import { absoluteHour, HOURS_PER_WEEK, hourOfWeek } from './hours.js';
import { populationShares, type HourModelParams } from './model.js';

const HOUR_MS = 3_600_000;

/** The prior every user's hours shrink toward, and the model parameters chosen with it. */
export interface BuiltPopulation {
  readonly shares: Float64Array;
  readonly params: HourModelParams;
  readonly how: string;
}

/** Builds the population from the log as of `at`, choosing parameters on up to `sampleUsers` users. */
export type PopulationSource = (at: number, sampleUsers: number) => Promise<BuiltPopulation>;

/**
 * One scan of the event log: every user's distinct active hours before `at` counted by hour of week, and
 * the hours of the first `sampleUsers` users kept to choose the parameters on (as `attune notify
 * evaluate` does). O(events) reading, O(users) memory for the per-user dedupe.
 */
export async function populationFromStore(
  store: Store,
  at: number,
  sampleUsers: number,
  /** Leaves out users whose consent withholds personalization; absent, everyone counts. */
  consent?: ConsentFilter,
): Promise<BuiltPopulation> {
  const counts = new Float64Array(HOURS_PER_WEEK);
  /** The last active hour counted per user: events of one hour arrive together, so this dedupes them. */
  const lastHour = new Map<string, number>();
  const sample = new Map<string, number[]>();
  const scan = store.scanEvents();
  for await (const batch of consent === undefined ? scan : consent.personalEvents(scan)) {
    for (const event of batch) {
      if (!isActivity(event.name) || event.timestamp > at) continue;
      const hour = absoluteHour(event.timestamp);
      if (lastHour.get(event.userId) === hour) continue;
      lastHour.set(event.userId, hour);
      counts[hourOfWeek(event.timestamp)]! += 1;
      let hours = sample.get(event.userId);
      if (hours === undefined && sample.size < sampleUsers) sample.set(event.userId, (hours = []));
      hours?.push(hour * HOUR_MS);
    }
  }
  const users = [...sample.values()].map((hours) => Float64Array.from(hours).sort());
  const choice = chooseParameters(users);
  return { shares: populationShares(counts, choice.params), params: choice.params, how: choice.how };
}

/** What the population worker is given. */
export interface PopulationJob {
  readonly storeUrl: string;
  readonly at: number;
  readonly sampleUsers: number;
  /** The engine's default consent: users whose consent withholds personalization are left out. */
  readonly defaultConsent: Consent;
}

export type PopulationMessage =
  | { readonly type: 'done'; readonly population: BuiltPopulation }
  | { readonly type: 'failed'; readonly message: string };

/**
 * `populationFromStore` on a worker thread with a store connection of its own: the serving process's
 * source. The scan reads the whole log and the parameter search takes about a second per 1,000 sampled
 * users; on the serving thread both would stall requests.
 */
export function populationInWorker(storeUrl: string, defaultConsent: Consent): PopulationSource {
  return (at, sampleUsers) =>
    new Promise((resolve, reject) => {
      const worker = startWorker(import.meta.url, './population.worker.js', {
        workerData: { storeUrl, at, sampleUsers, defaultConsent } satisfies PopulationJob,
      });
      let settled = false;
      worker.once('message', (message: PopulationMessage) => {
        settled = true;
        if (message.type === 'done') resolve(message.population);
        else reject(new Error(`building the notification-timing population failed: ${message.message}`));
        void worker.terminate();
      });
      worker.once('error', (error) => {
        settled = true;
        reject(error);
      });
      worker.once('exit', (code) => {
        if (!settled) reject(new Error(`the notification-timing worker exited ${code} before answering`));
      });
    });
}
