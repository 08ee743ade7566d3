import { ServedArtifact, type Store } from '../store/index.js';
import { CHURN_ARTIFACT, ChurnScorer, decodeChurnArtifact } from './artifact.js';

/** The churn model an engine serves: the newest stored `churn` version (see `ServedArtifact`). */
export function servedChurnModel(
  store: Store,
  onRejected: (version: number, error: unknown) => void,
): ServedArtifact<ChurnScorer> {
  return new ServedArtifact(
    store,
    CHURN_ARTIFACT,
    (payload, version) => new ChurnScorer(decodeChurnArtifact(payload), version),
    onRejected,
  );
}
