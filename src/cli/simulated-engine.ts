import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/index.js';
import { Engine } from '../engine/index.js';
import { defaultStages } from '../recommendations/index.js';
import type { SimulatedClock } from '../simulate/index.js';
import { cliEngineConfig } from './config.js';
import { cliLogger } from './logger.js';

/**
 * An engine and its HTTP app as `attune simulate` runs them: on the simulation's clock, never retraining or
 * polling on a wall-clock schedule (which a simulated clock makes meaningless; profiles still update with
 * every event), with the given holdout share (the engine's default when absent).
 */
export async function openSimulatedEngine(
  dataDir: string,
  clock: SimulatedClock,
  holdout: number | undefined,
): Promise<{ readonly engine: Engine; readonly app: FastifyInstance }> {
  const config = cliEngineConfig(dataDir, {
    retrainIntervalMs: null,
    bundlePollMs: null,
    ...(holdout === undefined ? {} : { holdout }),
  });
  const engine = await Engine.open(config, defaultStages, {
    logger: cliLogger('warn'),
    trainerName: 'attune simulate',
    clock: clock.now,
  });
  return { engine, app: buildApp({ engine }) };
}
