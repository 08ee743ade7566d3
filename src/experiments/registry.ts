import { randomBytes } from 'node:crypto';
import type { ModelName } from '../models/index.js';
import { BatchLog } from '../shared/batch-log.js';
import { LruMap } from '../shared/lru.js';
import type { EpochMs, JsonValue, ScalarRecord } from '../shared/types.js';
import type { Store } from '../store/index.js';
import { Assigner, type DecisionArmPlan } from './assignment.js';
import {
  ExperimentError,
  newExperiment,
  updatedExperiment,
  type DefinitionContext,
  type ExperimentInput,
  type ExperimentUpdate,
} from './definition.js';
import { HOLDOUT, type Assignment, type Experiment, type Exposure, type ServingPlan } from './types.js';

export interface ExperimentRegistryOptions {
  /** The global holdout's share of users, in [0, 1); 0 turns it off. */
  readonly holdout: number;
  /** Names of the metrics experiments may report (built in and stored). */
  readonly metricNames: () => ReadonlySet<string>;
  /** How long an exposure may wait for its batch. */
  readonly exposureFlushMs: number;
  /** Users whose exposure this process already logged, remembered so that a request logs nothing twice. */
  readonly rememberExposures?: number;
  readonly onError: (error: unknown) => void;
  readonly onDrop?: (count: number) => void;
  /** Exposures queued for the store at most (`BatchLog`'s `maxBacklog`); beyond, they are dropped and counted. */
  readonly maxExposureBacklog?: number;
  readonly now?: () => EpochMs;
}

/**
 * Salt of the holdout's hash. Fixed, not random per store: every instance must agree on who is held out
 * without coordinating, and a share that grows (5% → 10%) must keep everyone already held out.
 */
const HOLDOUT_SALT = 'attune-holdout';

/**
 * The experiments of one store, in memory: definitions, the assigner built from the running ones, and
 * the exposure log. Every change is written to the store first (compare-and-set on the revision) and
 * then applied here; `refresh` picks up changes other instances made.
 */
export class ExperimentRegistry {
  private experiments = new Map<string, Experiment>();
  private assigner: Assigner;
  private readonly exposures: BatchLog<Exposure>;
  /** `experiment \0 user` of exposures already logged by this process (the store keeps the first anyway). */
  private readonly exposed: LruMap<string, true>;
  private readonly now: () => EpochMs;

  private constructor(
    private readonly store: Store,
    private readonly options: ExperimentRegistryOptions,
  ) {
    if (!(options.holdout >= 0 && options.holdout < 1)) {
      throw new RangeError(`the holdout share must be in [0, 1), not ${options.holdout}`);
    }
    this.now = options.now ?? Date.now;
    this.assigner = new Assigner([], { share: options.holdout, salt: HOLDOUT_SALT });
    this.exposures = new BatchLog((batch) => store.appendExposures(batch), {
      flushMs: options.exposureFlushMs,
      onError: options.onError,
      ...(options.onDrop ? { onDrop: options.onDrop } : {}),
      ...(options.maxExposureBacklog === undefined ? {} : { maxBacklog: options.maxExposureBacklog }),
    });
    this.exposed = new LruMap(options.rememberExposures ?? 200_000);
  }

  static async open(store: Store, options: ExperimentRegistryOptions): Promise<ExperimentRegistry> {
    const registry = new ExperimentRegistry(store, options);
    await registry.refresh();
    return registry;
  }

  /** The holdout's share of users (0 when off). */
  get holdoutShare(): number {
    return this.options.holdout;
  }

  /** Reads every experiment from the store again (changes made by other instances). */
  async refresh(): Promise<void> {
    const stored = await this.store.listExperiments();
    const next = new Map<string, Experiment>();
    for (const row of stored) next.set(row.id, row.body as unknown as Experiment);
    this.experiments = next;
    this.rebuild();
  }

  list(): Experiment[] {
    return [...this.experiments.values()];
  }

  get(id: string): Experiment | undefined {
    return this.experiments.get(id);
  }

  async create(input: ExperimentInput): Promise<Experiment> {
    const draft = newExperiment(input, this.context(randomBytes(8).toString('hex')));
    const experiment = { ...draft, slice: { start: this.placeSlice(draft) } };
    if (!(await this.store.saveExperiment(stored(experiment), null))) {
      throw new ExperimentError(409, 'id', `an experiment "${input.id}" exists already`);
    }
    this.apply(experiment);
    return experiment;
  }

  async update(id: string, update: ExperimentUpdate): Promise<Experiment> {
    const current = await this.fresh(id);
    const next = updatedExperiment(current, update, this.context(current.salt));
    return this.save(current, { ...next, slice: { start: this.placeSlice(next) } });
  }

  async start(id: string): Promise<Experiment> {
    const current = await this.fresh(id);
    if (current.status === 'running') return current;
    if (current.status === 'stopped') {
      throw new ExperimentError(409, null, `experiment "${id}" was stopped; create a new one to run again`);
    }
    const now = this.now();
    const next: Experiment = { ...current, status: 'running', startedAt: now, updatedAt: now };
    return this.save(current, {
      ...next,
      slice: { start: this.placeSlice(next) },
      revision: current.revision + 1,
    });
  }

  async stop(id: string): Promise<Experiment> {
    const current = await this.fresh(id);
    if (current.status === 'stopped') return current;
    const now = this.now();
    return this.save(current, {
      ...current,
      status: 'stopped',
      stoppedAt: now,
      updatedAt: now,
      revision: current.revision + 1,
    });
  }

  // --- serving ------------------------------------------------------------------------------------

  /** Whether placing users needs their traits (some running experiment has an audience). */
  get needsTraits(): boolean {
    return this.assigner.needsTraits;
  }

  /** Whether placing users needs their segment (some running experiment's audience names `segment`). */
  get needsSegment(): boolean {
    return this.assigner.needsSegment;
  }

  /** What to serve the user's recommendations with. */
  plan(userId: string, traits: ScalarRecord | null): ServingPlan {
    return this.assigner.plan(userId, traits);
  }

  /** Every running experiment the user is in (for client-side variants), and whether they are held out. */
  assignments(userId: string, traits: ScalarRecord | null): { holdout: boolean; assignments: Assignment[] } {
    return {
      holdout: this.assigner.isHeldOut(userId),
      assignments: [...this.assigner.assignments(userId, traits)],
    };
  }

  /**
   * Logs that the user was served under `plan`: the holdout's arm (when the holdout is on) and each variant
   * that shaped the list. Only the first exposure per user and experiment matters; repeats cost a map
   * lookup. `served` lists the assignments whose treatment was actually applied: a variant whose model
   * is not trained yet served the default and is not logged.
   */
  expose(userId: string, plan: ServingPlan, served: readonly Assignment[], at: EpochMs): void {
    if (this.options.holdout > 0)
      this.log(HOLDOUT, userId, plan.kind === 'holdout' ? HOLDOUT : 'personalized', at);
    for (const assignment of served) this.log(assignment.experiment, userId, assignment.variant, at);
  }

  /**
   * The user's arm at a decision point, logged as exposed: the global holdout's arm (when the holdout is on)
   * and the variant of the running experiment that targets the point, if the user is in one.
   */
  decisionArm(userId: string, point: string, traits: ScalarRecord | null, at: EpochMs): DecisionArmPlan {
    const arm = this.assigner.decisionArm(userId, traits, point);
    if (this.options.holdout > 0)
      this.log(HOLDOUT, userId, arm.kind === 'holdout' ? HOLDOUT : 'personalized', at);
    if (arm.kind === 'experiment') this.log(arm.assignment.experiment, userId, arm.assignment.variant, at);
    return arm;
  }

  /**
   * A client-side exposure (`POST /v1/exposures`): the variant is the user's assignment, computed here,
   * never taken from the client, so a client cannot log a user into the wrong arm.
   */
  exposeClient(userId: string, experimentId: string, traits: ScalarRecord | null, at: EpochMs): Assignment {
    const experiment = this.experiments.get(experimentId);
    if (experiment === undefined)
      throw new ExperimentError(404, 'experiment', `no experiment "${experimentId}"`);
    if (experiment.status !== 'running') {
      throw new ExperimentError(
        409,
        'experiment',
        `experiment "${experimentId}" is ${experiment.status}, not running`,
      );
    }
    const assignment = [...this.assigner.assignments(userId, traits)].find(
      (a) => a.experiment === experimentId,
    );
    if (assignment === undefined) {
      throw new ExperimentError(
        409,
        'user_id',
        this.assigner.isHeldOut(userId)
          ? `user "${userId}" is in the global holdout and takes part in no experiment`
          : `user "${userId}" is not in experiment "${experimentId}" (outside its traffic, layer or audience)`,
      );
    }
    this.log(experimentId, userId, assignment.variant, at);
    return assignment;
  }

  /** Models running experiments serve that the bundle must hold (training fits them too). */
  modelsWanted(): ModelName[] {
    const models = new Set<ModelName>();
    for (const experiment of this.experiments.values()) {
      if (experiment.status !== 'running') continue;
      for (const variant of experiment.variants)
        if (variant.treatment.model) models.add(variant.treatment.model);
    }
    return [...models];
  }

  /**
   * Erasure: forgets that the user was exposed (their stored exposures are deleted with them), so that a
   * request after it logs a first exposure again, from then.
   */
  forgetUser(userId: string): void {
    for (const experiment of [HOLDOUT, ...this.experiments.keys()]) {
      this.exposed.delete(exposureKey(experiment, userId));
    }
  }

  /** Writes the exposures logged so far. */
  flush(): Promise<void> {
    return this.exposures.flush();
  }

  // --- internals ----------------------------------------------------------------------------------

  private log(experiment: string, userId: string, variant: string, at: EpochMs): void {
    const key = exposureKey(experiment, userId);
    if (this.exposed.get(key)) return;
    // Remembered only once queued: an exposure the full backlog dropped is logged on the user's next
    // request instead of never (at that request's time: a later first exposure, not a lost user).
    if (this.exposures.record({ experiment, userId, variant, at })) this.exposed.set(key, true);
  }

  private context(salt: string): DefinitionContext {
    return { now: this.now(), metrics: this.options.metricNames(), salt };
  }

  /** The stored experiment: what another instance may have changed since this one last read it. */
  private async fresh(id: string): Promise<Experiment> {
    const row = await this.store.getExperiment(id);
    if (row === null) throw new ExperimentError(404, null, `no experiment "${id}"`);
    const experiment = row.body as unknown as Experiment;
    this.apply(experiment);
    return experiment;
  }

  private async save(current: Experiment, next: Experiment): Promise<Experiment> {
    if (!(await this.store.saveExperiment(stored(next), current.revision))) {
      await this.refresh();
      throw new ExperimentError(
        409,
        'revision',
        `experiment "${current.id}" changed meanwhile; read it again and retry`,
      );
    }
    this.apply(next);
    return next;
  }

  private apply(experiment: Experiment): void {
    this.experiments.set(experiment.id, experiment);
    this.rebuild();
  }

  private rebuild(): void {
    this.assigner = new Assigner([...this.experiments.values()], this.assigner.holdout);
  }

  /**
   * Where `experiment` sits in its layer: where it is now if that still fits, else (a new one or a draft)
   * the lowest start where `traffic` fits beside the layer's other drafts and running experiments (stopped
   * ones free their place). A started experiment only grows in place, so ramping up keeps every user it
   * had. Refused with 409 when there is no room.
   */
  private placeSlice(experiment: Experiment): number {
    const taken = [...this.experiments.values()]
      .filter((e) => e.id !== experiment.id && e.layer === experiment.layer && e.status !== 'stopped')
      .map((e) => ({ start: e.slice.start, end: e.slice.start + e.traffic }))
      .sort((a, b) => a.start - b.start);
    const fits = (start: number) =>
      start + experiment.traffic <= 1 + 1e-12 &&
      taken.every((t) => start + experiment.traffic <= t.start + 1e-12 || start >= t.end - 1e-12);
    const placed = this.experiments.has(experiment.id);
    if (placed && fits(experiment.slice.start)) return experiment.slice.start;
    // A started experiment never moves: its users would change. A draft may move to where it fits.
    const movable = !placed || this.experiments.get(experiment.id)?.status === 'draft';
    if (movable) for (const start of [0, ...taken.map((t) => t.end)]) if (fits(start)) return start;
    const free = 1 - taken.reduce((sum, t) => sum + (t.end - t.start), 0);
    throw new ExperimentError(
      409,
      'traffic',
      `layer "${experiment.layer}" has no free range of ${experiment.traffic} (free in all: ${free.toFixed(4)}); ` +
        'lower the traffic, stop another experiment of the layer, or use another layer',
    );
  }
}

function stored(experiment: Experiment) {
  return { id: experiment.id, revision: experiment.revision, body: experiment as unknown as JsonValue };
}

const exposureKey = (experiment: string, userId: string): string => `${experiment}\u0000${userId}`;
