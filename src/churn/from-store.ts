import type { ConsentFilter } from '../privacy/index.js';
import type { Item } from '../catalog/index.js';
import { featuresAt, userFeatureTable, type FeatureSet, type ItemLookup } from '../features/index.js';
import { trainGbdtInWorker } from '../models/tabular/index.js';
import type { Store } from '../store/index.js';
import {
  BAND_QUANTILES,
  CHURN_ARTIFACT,
  CHURN_FORMAT_VERSION,
  ChurnScorer,
  decodeChurnArtifact,
  encodeChurnArtifact,
  quantile,
  type ChurnArtifactData,
  type ChurnScore,
} from './artifact.js';
import { churnMonotone } from './constraints.js';
import { churnColumns } from './derived.js';
import {
  chooseGbdtParams,
  churnProbabilities,
  gbdtChurnModel,
  gbdtDataset,
  startModel,
  tunedLogistic,
  type ChurnModelFit,
} from './event-models.js';
import {
  churnRate,
  churnTable,
  stackedChurnTable,
  validationCuts,
  type ChurnCut,
  type ChurnTable,
} from './events.js';
import { reportLine, rowsOf, validateOverTime, type TimeValidation } from './validation.js';

/**
 * Churn on a store's events: the time-based validation `attune churn evaluate` prints, the artifact
 * `attune churn train` saves, and the scores `attune churn score` writes. Each table is one scan of the
 * log through a position fixed at the start, so events arriving meanwhile change nothing.
 */

export type ChurnModelChoice = 'auto' | 'logreg' | 'gbdt';

export interface StoreChurnOptions {
  /** The time the labels must have ended by and scores are at. */
  readonly now: number;
  readonly windowMs: number;
  /** Names that count as coming back; null: any event. */
  readonly events: readonly string[] | null;
  /** The evaluation cut (default now − window); training cuts one window earlier. */
  readonly cutoff?: number;
  /**
   * Whose events may be learnt from and scored (`privacy/`): users whose consent withholds
   * personalization are left out. Absent: everyone's.
   */
  readonly consent?: ConsentFilter;
}

/** The log through `throughSeq`, without the events of users the consent filter leaves out. */
function scanFor(store: Store, throughSeq: number, consent: ConsentFilter | undefined) {
  const scan = store.scanEvents({ throughSeq });
  return consent === undefined ? scan : consent.personalEvents(scan);
}

/** The catalog as features read it (categories, prices), read once. */
export async function storeItems(store: Store): Promise<ItemLookup> {
  const catalog = new Map<string, Item>();
  for await (const batch of store.scanItems()) for (const item of batch) catalog.set(item.id, item);
  return (itemId) => catalog.get(itemId);
}

/**
 * The training table stacked below the `train` cut (`stackedChurnTable`: a cutoff every 30 days back,
 * at most 12) and the single table at the `evaluation` cut, each cutoff one scan of the log through one
 * position (validateStore fixes it).
 */
async function tablesAt(
  store: Store,
  set: FeatureSet,
  cuts: { readonly train: ChurnCut; readonly evaluation: ChurnCut },
  items: ItemLookup,
  throughSeq: number,
  consent: ConsentFilter | undefined,
): Promise<{ readonly train: ChurnTable; readonly evaluation: ChurnTable }> {
  const scan = () => scanFor(store, throughSeq, consent);
  return {
    train: (await stackedChurnTable(set, scan, cuts.train, items)).stacked,
    evaluation: await churnTable(set, scan(), cuts.evaluation, items),
  };
}

/** What validation read: the log through `throughSeq`, the catalog as `items`; the latest labelled cut. */
export interface StoreValidation {
  readonly validation: TimeValidation;
  readonly latest: ChurnCut;
  readonly throughSeq: number;
  readonly items: ItemLookup;
}

/**
 * The three models fitted on the cutoffs stacked below one window before the cutoff and judged at it,
 * on the set's columns and the derived ratios (`churnColumns`); the trees under the churn constraints
 * (`churnMonotone`).
 */
export async function validateStore(
  store: Store,
  set: FeatureSet,
  options: StoreChurnOptions,
): Promise<StoreValidation> {
  const cuts = validationCuts(options.now, options.windowMs, options.events, options.cutoff);
  const items = await storeItems(store);
  const throughSeq = await store.lastEventSeq();
  const { train, evaluation } = await tablesAt(store, set, cuts, items, throughSeq, options.consent);
  const monotone = churnMonotone(churnColumns(set, options.events), options.events);
  const validation = validateOverTime(train, evaluation, { monotone });
  return { validation, latest: cuts.evaluation, throughSeq, items };
}

/**
 * Validates, then fits the final model on the latest labelled cut (features before `now − window`,
 * labels over the last window) so it scores users at now, and saves it as a new `churn` version. `auto`
 * keeps the model with the higher validation AUC. Returns the version and what was stored.
 */
export async function trainChurn(
  store: Store,
  set: FeatureSet,
  options: StoreChurnOptions & { readonly model?: ChurnModelChoice },
): Promise<{ readonly version: number; readonly data: ChurnArtifactData }> {
  const { validation, latest: latestCut, throughSeq, items } = await validateStore(store, set, options);
  const byName = new Map(validation.reports.map((r) => [r.model, r]));
  const auc = (name: 'logreg' | 'gbdt') => byName.get(name)?.auc ?? Number.NaN;
  const choice = options.model ?? 'auto';
  const chosen = choice !== 'auto' ? choice : auc('gbdt') > auc('logreg') ? 'gbdt' : 'logreg';
  // The final model learns from the cutoffs stacked below the latest labelled one, as validation did.
  // Same log position and catalog as validation, so both saw the same events.
  const { stacked: latest, newest } = await stackedChurnTable(
    set,
    () => scanFor(store, throughSeq, options.consent),
    latestCut,
    items,
  );
  const rows = rowsOf(latest);
  let model: ChurnModelFit;
  if (chosen === 'gbdt') {
    // Tuning fits are short (early stopped on a fifth of the rows); the final fit on every row, the
    // longest, runs on a worker thread so the process stays responsive.
    const monotone = churnMonotone(churnColumns(set, options.events), options.events);
    const { final, base } = chooseGbdtParams(latest.ids, rows, monotone);
    // Boosted from logistic regression when tuning chose it: the same model, refitted on every row, is
    // stored with the trees so serving adds its margin as training did.
    const logistic = startModel(base, rows);
    model = gbdtChurnModel((await trainGbdtInWorker(gbdtDataset(rows, logistic), final)).model, logistic);
  } else {
    model = tunedLogistic(latest.ids, rows);
  }
  // Bands are cut on the users at one moment (the latest cutoff), as scoring at now will see them.
  const fitted = churnProbabilities(model, newest.x);
  const data: ChurnArtifactData = {
    format: CHURN_FORMAT_VERSION,
    trainedAt: options.now,
    cutoff: latest.cut.cutoff,
    windowMs: latest.cut.windowMs,
    events: latest.cut.events,
    // The derived columns travel with their inputs' names, so serving computes them as training did.
    columns: churnColumns(set, options.events),
    model,
    bands: { medium: quantile(fitted, BAND_QUANTILES.medium), high: quantile(fitted, BAND_QUANTILES.high) },
    calibration: byName.get(chosen)?.calibration ?? [],
    evaluation: {
      reports: validation.reports.map((r) => ({
        ...(JSON.parse(reportLine(r)) as Record<string, unknown>),
        params: r.params,
      })),
      train: validation.train,
      evaluation: validation.evaluation,
    },
    trainRows: latest.ids.length,
    churnRate: churnRate(latest),
  };
  if (data.columns.map((c) => c.column).join('\n') !== latest.columns.join('\n')) {
    throw new Error('the feature definitions changed while training; run it again');
  }
  const version = await store.saveArtifact({
    name: CHURN_ARTIFACT,
    createdAt: Date.now(),
    meta: {
      model: chosen,
      cutoff: new Date(data.cutoff).toISOString(),
      window_days: data.windowMs / 86_400_000,
      events: data.events === null ? null : [...data.events],
      trained_at: new Date(data.trainedAt).toISOString(),
    },
    payload: encodeChurnArtifact(data),
  });
  return { version, data };
}

/** The newest stored churn model, or null when none was trained. */
export async function loadChurnScorer(store: Store): Promise<ChurnScorer | null> {
  const artifact = await store.loadArtifact(CHURN_ARTIFACT);
  if (artifact === null) return null;
  return new ChurnScorer(decodeChurnArtifact(artifact.payload), artifact.version);
}

export interface UserChurnScore extends ChurnScore {
  readonly userId: string;
}

/**
 * Every user with an event before `now` (or only `userId`), scored at `now` with the stored model: the
 * features the batch store computes at `now`, which equal the online ones at the same time.
 */
export async function scoreStore(
  store: Store,
  set: FeatureSet,
  scorer: ChurnScorer,
  now: number,
  userId?: string,
  consent?: ConsentFilter,
): Promise<UserChurnScore[]> {
  const items = await storeItems(store);
  if (userId !== undefined && consent !== undefined && !consent.personalizes(userId)) return [];
  if (userId !== undefined) {
    const events = await store.userEvents(userId, { limit: Number.MAX_SAFE_INTEGER });
    if (!events.some((e) => e.timestamp < now)) return [];
    const row = featuresAt(set, 'user', events, now, items);
    return [{ userId, ...scorer.score(scorer.rowFrom(row.columns.numeric, row.numbers)) }];
  }
  const table = await userFeatureTable(set, scanFor(store, await store.lastEventSeq(), consent), now, items);
  const width = table.columns.length;
  return table.ids.map((id, r) => ({
    userId: id,
    ...scorer.score(scorer.rowFrom(table.columns, table.values.subarray(r * width, (r + 1) * width))),
  }));
}
