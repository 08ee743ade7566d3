import type {
  CloseResult,
  DecisionClose,
  DecisionLogStats,
  LoggedDecision,
} from '../decisions/points/log-types.js';
import { PROBABILITY_TIE, type DecisionTimeline } from '../decisions/timeline.js';
import { assertText, type PgDb, type PgTx } from './postgres-db.js';
import type { PgLogWriter, PgStatement } from './postgres-writer.js';
import { assertCount, keysetScan } from './keyset.js';
import type { RecordTables } from './postgres.js';
import {
  decisionFromRow,
  decisionParams,
  outcomeFromRow,
  type DecisionParams,
  type DecisionRow,
} from './rows.js';

/*
 * The decision log on PostgreSQL (tables in `postgres-records.ts`). Several API instances append and close
 * decisions in one table, so what SQLite gets from its single writer comes from the database here: a close
 * is a conditional UPDATE (`outcome_source IS NULL`), which PostgreSQL re-checks on the newest row version
 * when it had to wait for another transaction's close, so of two racing closes exactly one matches.
 * Within one store, appends and closes go through one promise chain, so they apply in call order.
 */

/** In the order of `DecisionParams`, with each column's type for `unnest`. */
const DECISION_COLUMN_TYPES = [
  ['id', 'text'],
  ['point', 'text'],
  ['user_id', 'text'],
  ['at', 'bigint'],
  ['context', 'text'],
  ['features', 'bytea'],
  ['offered', 'text'],
  ['probabilities', 'text'],
  ['action', 'text'],
  ['propensity', 'float8'],
  ['policy', 'text'],
  ['experiment', 'text'],
  ['deadline', 'bigint'],
  ['reward', 'float8'],
  ['outcome_at', 'bigint'],
  ['outcome_source', 'text'],
] as const;

const DECISION_COLUMNS = DECISION_COLUMN_TYPES.map(([column]) => column).join(', ');
const DECISION_COLUMNS_OF_D = DECISION_COLUMN_TYPES.map(([column]) => `d.${column}`).join(', ');

/**
 * One statement for the whole batch: each column as an array, unnested together. WITH ORDINALITY and the
 * ORDER BY keep the batch's order in `seq` (the rows are inserted, and their seq drawn, in that order).
 */
const INSERT_DECISIONS = `
  INSERT INTO decisions (${DECISION_COLUMNS})
  SELECT ${DECISION_COLUMNS}
  FROM unnest(${DECISION_COLUMN_TYPES.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
    WITH ORDINALITY AS t(${DECISION_COLUMNS}, ord)
  ORDER BY ord`;

/**
 * Locks the open decisions a batch closes, in id order, before the UPDATE takes them: two instances
 * closing overlapping batches then wait for each other instead of deadlocking on rows taken in different
 * orders.
 */
const LOCK_OPEN = `SELECT 1 FROM decisions WHERE id = ANY($1::text[]) AND outcome_source IS NULL
  ORDER BY id FOR UPDATE`;

const CLOSE_OPEN = `
  UPDATE decisions AS d SET reward = c.reward, outcome_at = c.at, outcome_source = c.source
  FROM unnest($1::text[], $2::float8[], $3::bigint[], $4::text[]) AS c(id, reward, at, source)
  WHERE d.id = c.id AND d.outcome_source IS NULL`;

/** Checks the text columns a decision's caller names (PostgreSQL text cannot hold U+0000). */
function assertDecisionText(decision: LoggedDecision): void {
  assertText('decision id', decision.id);
  assertText('decision point', decision.point);
  assertText('decision userId', decision.userId);
  assertText('decision action', decision.action);
  assertText('decision policy', decision.policy);
}

/** One statement for a batch of appends: its columns as arrays (`INSERT_DECISIONS`). */
function insertStatement(decisions: readonly LoggedDecision[]): PgStatement {
  const rows = decisions.map(decisionParams);
  // Column arrays: features as bytes (pg writes them into the bytea[] literal as hex, bit for bit).
  const params = DECISION_COLUMN_TYPES.map((_, column) =>
    rows.map((row: DecisionParams) => row[column] ?? null),
  );
  return { sql: INSERT_DECISIONS, params };
}

/** The first close of each id, in call order: the one that can record (a repeat finds the outcome it set). */
function firstCloses(closes: readonly DecisionClose[]): DecisionClose[] {
  const first = new Map<string, DecisionClose>();
  for (const close of closes) if (!first.has(close.id)) first.set(close.id, close);
  return [...first.values()];
}

/**
 * What closes a batch's first closes: a lock on their rows (when there are several), then the UPDATE.
 */
function closeStatements(unique: readonly DecisionClose[]): {
  readonly lock: PgStatement | null;
  readonly close: PgStatement;
} {
  const ids = unique.map((close) => close.id);
  return {
    lock: unique.length > 1 ? { sql: LOCK_OPEN, params: [ids] } : null,
    close: {
      sql: CLOSE_OPEN,
      params: [
        ids,
        unique.map((close) => close.outcome.reward),
        unique.map((close) => close.outcome.at),
        unique.map((close) => close.outcome.source),
      ],
    },
  };
}

function assertCloseText(closes: readonly DecisionClose[]): void {
  for (const close of closes) {
    assertText('decision id', close.id);
    assertText('outcome source', close.outcome.source);
  }
}

/**
 * A batch of the serving path's decision log (`Store.writeDecisionLog`) as statements for one transaction,
 * appends before closes. Built on the log writer's thread (`postgres-writer.worker.ts`): turning decisions
 * into rows (their context, offered actions and probabilities as JSON) cost the serving thread about two
 * thirds of what the driver's escaping of them did (a CPU profile, docs/SCALING.md).
 */
export function decisionLogStatements(
  appends: readonly LoggedDecision[],
  closes: readonly DecisionClose[],
): PgStatement[] {
  const statements = appends.length > 0 ? [insertStatement(appends)] : [];
  const unique = firstCloses(closes);
  if (unique.length === 0) return statements;
  const { lock, close } = closeStatements(unique);
  return [...statements, ...(lock ? [lock] : []), close];
}

/** Closes in the caller's transaction and says per close what happened, as `Store.closeDecisions`. */
async function closeInTransaction(tx: PgTx, closes: readonly DecisionClose[]): Promise<CloseResult[]> {
  assertCloseText(closes);
  const unique = firstCloses(closes);
  const { lock, close } = closeStatements(unique);
  if (lock) await tx.query(lock.sql, lock.params);
  const recorded = new Map(
    (await tx.query<DecisionRow>(`${close.sql} RETURNING ${DECISION_COLUMNS_OF_D}`, close.params)).map(
      (row) => [row.id, decisionFromRow(row)],
    ),
  );
  const others = unique.map((c) => c.id).filter((id) => !recorded.has(id));
  const existing = new Map(
    others.length === 0
      ? []
      : (
          await tx.query<Pick<DecisionRow, 'id' | 'reward' | 'outcome_at' | 'outcome_source'>>(
            'SELECT id, reward, outcome_at, outcome_source FROM decisions WHERE id = ANY($1::text[])',
            [others],
          )
        ).map((row) => [row.id, outcomeFromRow(row)]),
  );
  const answered = new Set<string>();
  return closes.map((close): CloseResult => {
    const decision = recorded.get(close.id);
    const firstOfId = !answered.has(close.id);
    answered.add(close.id);
    if (decision !== undefined && decision.outcome !== null) {
      return firstOfId ? { status: 'recorded', decision } : { status: 'closed', outcome: decision.outcome };
    }
    const outcome = existing.get(close.id) ?? null;
    return outcome === null ? { status: 'unknown' } : { status: 'closed', outcome };
  });
}

type DecisionLogMethods = Pick<
  RecordTables,
  | 'deleteDecisionPoint'
  | 'appendDecisions'
  | 'writeDecisionLog'
  | 'getDecision'
  | 'closeDecisions'
  | 'expiredDecisions'
  | 'scanDecisions'
  | 'decisionStats'
  | 'userDecisions'
  | 'decisionActivity'
>;

/** The decision log of one store: its writes in call order, its reads straight from the pool. */
export class PgDecisionLog implements DecisionLogMethods {
  /** The tail of this store's decision-log writes: each one starts when the one before it has settled. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: PgDb,
    private readonly writer: PgLogWriter,
  ) {}

  /** Runs `work` after every decision-log write issued before it, whether that succeeded or not. */
  #inOrder<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The definition and the point's whole log, in one transaction (on the queue: after earlier appends). */
  async deleteDecisionPoint(id: string): Promise<boolean> {
    this.db.assertWritable('delete a decision point');
    assertText('decision point id', id);
    return this.#inOrder(() =>
      this.db.transaction(async (tx) => {
        await tx.execute('DELETE FROM decisions WHERE point = $1', [id]);
        return (await tx.execute('DELETE FROM decision_points WHERE id = $1', [id])) > 0;
      }),
    );
  }

  async appendDecisions(decisions: readonly LoggedDecision[]): Promise<void> {
    this.db.assertWritable('append decisions');
    if (decisions.length === 0) return;
    decisions.forEach(assertDecisionText);
    // One statement is atomic: a repeated id fails it whole, and nothing of the batch is stored.
    return this.#inOrder(() => this.writer.writeDecisionLog(decisions, []));
  }

  async writeDecisionLog(
    appends: readonly LoggedDecision[],
    closes: readonly DecisionClose[],
  ): Promise<void> {
    this.db.assertWritable('write the decision log');
    if (appends.length === 0 && closes.length === 0) return;
    // The text is checked here, before any of the batch goes to the database.
    appends.forEach(assertDecisionText);
    assertCloseText(closes);
    // On the log writer's thread, which turns the batch into rows too: the serving thread only copies it.
    await this.#inOrder(() => this.writer.writeDecisionLog(appends, closes));
  }

  async getDecision(id: string): Promise<LoggedDecision | null> {
    assertText('decision id', id);
    const [row] = await this.db.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE id = $1`,
      [id],
    );
    return row ? decisionFromRow(row) : null;
  }

  async closeDecisions(closes: readonly DecisionClose[]): Promise<CloseResult[]> {
    this.db.assertWritable('close decisions');
    if (closes.length === 0) return [];
    return this.#inOrder(() => this.db.transaction((tx) => closeInTransaction(tx, closes)));
  }

  /** The partial index of open decisions, in its order (deadline, then seq). */
  async expiredDecisions(before: number, limit: number): Promise<LoggedDecision[]> {
    assertCount('limit', limit, 0);
    const rows = await this.db.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE outcome_source IS NULL AND deadline < $1
       ORDER BY deadline, seq LIMIT $2`,
      [before, limit],
    );
    return rows.map(decisionFromRow);
  }

  /** Keyset pagination on seq through the (point, seq) index: append order. */
  scanDecisions(
    point: string,
    options: { readonly batchSize?: number } = {},
  ): AsyncGenerator<LoggedDecision[]> {
    assertText('decision point', point);
    return keysetScan(options, {
      start: 0,
      fetch: (after, limit) =>
        this.db.query<DecisionRow & { readonly seq: number }>(
          `SELECT seq, ${DECISION_COLUMNS} FROM decisions WHERE point = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
          [point, after, limit],
        ),
      keyOf: (row) => row.seq,
      map: decisionFromRow,
    });
  }

  async decisionStats(point: string): Promise<DecisionLogStats> {
    assertText('decision point', point);
    const [row] = await this.db.query<{ decisions: number; closed: number; reward_sum: number }>(
      `SELECT count(*) AS decisions, count(outcome_source) AS closed, coalesce(sum(reward), 0) AS reward_sum
       FROM decisions WHERE point = $1`,
      [point],
    );
    return { decisions: row?.decisions ?? 0, closed: row?.closed ?? 0, rewardSum: row?.reward_sum ?? 0 };
  }

  async userDecisions(userId: string): Promise<LoggedDecision[]> {
    assertText('userId', userId);
    const rows = await this.db.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE user_id = $1 ORDER BY seq`,
      [userId],
    );
    return rows.map(decisionFromRow);
  }

  /**
   * Aggregated where the rows lie (the (point, at) index), with no row decoded in JavaScript. Explored:
   * the chosen action's probability (its propensity) below the highest offered, by the same arithmetic
   * as `decisions/timeline.ts`'s `explored` (float8 is the same IEEE double).
   */
  async decisionActivity(
    point: string,
    from: number,
    bucketMs: number,
    count: number,
  ): Promise<DecisionTimeline> {
    assertCount('bucketMs', bucketMs, 1);
    assertCount('count', count, 1);
    assertText('decision point', point);
    const end = from + count * bucketMs;
    // One statement, so one snapshot: the count before the window is the row with b = -1.
    const rows = await this.db.query<{
      b: number;
      decisions: number;
      rewarded: number;
      reward_sum: number;
      explored: number;
      propensity_sum: number;
    }>(
      `SELECT -1 AS b, count(*) AS decisions, 0::bigint AS rewarded, 0::float8 AS reward_sum,
         0::bigint AS explored, 0::float8 AS propensity_sum
       FROM decisions WHERE point = $1 AND at < $2::bigint
       UNION ALL
       SELECT ((at - $2::bigint) / $3::bigint)::int AS b, count(*) AS decisions,
         count(outcome_source) AS rewarded, coalesce(sum(reward), 0) AS reward_sum,
         count(*) FILTER (WHERE propensity < (
           SELECT max(x.value::float8) FROM json_array_elements_text(probabilities::json) AS x(value)
         ) * (1 - $5::float8)) AS explored,
         sum(propensity) AS propensity_sum
       FROM decisions WHERE point = $1 AND at >= $2::bigint AND at < $4::bigint GROUP BY 1`,
      [point, from, bucketMs, end, PROBABILITY_TIE],
    );
    const buckets = Array.from({ length: count }, (_, b) => ({
      start: from + b * bucketMs,
      decisions: 0,
      rewarded: 0,
      rewardSum: 0,
      explored: 0,
      propensitySum: 0,
    }));
    let earlier = 0;
    for (const row of rows) {
      if (row.b === -1) earlier = row.decisions;
      const bucket = buckets[row.b];
      if (bucket === undefined) continue;
      bucket.decisions = row.decisions;
      bucket.rewarded = row.rewarded;
      bucket.rewardSum = row.reward_sum;
      bucket.explored = row.explored;
      bucket.propensitySum = row.propensity_sum;
    }
    return { buckets, earlier };
  }
}
