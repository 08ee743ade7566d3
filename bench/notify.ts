/**
 * Notification timing on MovieLens 100K's rating times (hour of week in UTC), under the protocol of
 * `src/decisions/notify/evaluate.ts`: the user model's top 3 hours must hold the next activity at least
 * 1.5 × as often as the population's top 3. Parameters are chosen on the histories' own validation cut.
 * Baseline: the population's top 3 by plain active-hour counts; the ratio against the population spread
 * as the model spreads it (smoothing, day pooling) is reported too.
 *
 *   node --import tsx bench/notify.ts [--input ../shared/data/ml-100k/u.data]
 * stdout: one JSON line.
 */
import { fileURLToPath } from 'node:url';
import { PARAMETER_GRID, runTimingEvaluation, timestampsByUser } from '../src/decisions/notify/index.js';
import { readInteractions } from '../src/evaluation/index.js';

const args = process.argv.slice(2);
const at = args.indexOf('--input');
const input =
  at >= 0 ? args[at + 1]! : fileURLToPath(new URL('../../shared/data/ml-100k/u.data', import.meta.url));

const started = performance.now();
const users = await timestampsByUser(readInteractions(input, 'ml100k'));
const { test, choice } = runTimingEvaluation(users);
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({
    bench: 'notify',
    dataset: 'ml-100k',
    users: test.users,
    users_judged: test.judged,
    hit_rate: test.hitRate,
    population_hit_rate: test.populationHitRate,
    ratio: test.ratio,
    target_ratio: 1.5,
    pass: test.ratio !== null && test.ratio >= 1.5,
    population_top_utc: test.populationTop,
    spread_population_hit_rate: test.spreadPopulationHitRate,
    ratio_vs_spread_population:
      test.spreadPopulationHitRate > 0 ? test.hitRate / test.spreadPopulationHitRate : null,
    prior_strength: choice.params.priorStrength,
    smoothing: choice.params.smoothing,
    half_life_days: choice.params.halfLifeDays,
    day_pooling: choice.params.dayPooling,
    grid_settings: PARAMETER_GRID.length,
    chosen_by: choice.how,
    validation_hit_rate: choice.validation?.hitRate ?? null,
    validation_population_hit_rate: choice.validation?.populationHitRate ?? null,
    seconds: Number(seconds.toFixed(3)),
  })}\n`,
);
