/**
 * `attune simulate`'s shop that answers back: the demo shop's users, with their hidden tastes, driven
 * through the running HTTP API over simulated days; they ask for lists, click and buy by taste, and come
 * back more often when what they see suits them. The simulation plants the true effect of an experiment,
 * so the whole loop (assignment, exposure, metrics, statistics, report) is checked against the truth.
 */
export { drive, SimulatedClock, type DriveCounts, type DriveOptions } from './driver.js';
export { ApiClient } from './http.js';
export { judge, type HoldoutMetric, type JudgedMetric, type Judgement } from './judge.js';
export { experimentBody, trueLift, upsellScenario, type Scenario } from './scenario.js';
export { affinity, BEHAVIOUR, clickChance, population, type Population } from './shoppers.js';
export {
  DEFAULT_DECISION_LEARNERS,
  DEMO_POINTS,
  decisionPointBodies,
  driveDecisions,
  type DecisionDriveOptions,
  type DecisionDriveOutcome,
  type LearnerBody,
  type PointOutcome,
  type PointStatusJson,
  type WindowReport,
} from './decisions.js';
