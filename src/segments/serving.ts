import { ServedArtifact, type Store } from '../store/index.js';
import { SEGMENTS_ARTIFACT, SegmentModel, decodeSegmentsArtifact } from './model.js';

/** The segmentation an engine serves: the newest stored `segments` version (see `ServedArtifact`). */
export function servedSegments(
  store: Store,
  onRejected: (version: number, error: unknown) => void,
): ServedArtifact<SegmentModel> {
  return new ServedArtifact(
    store,
    SEGMENTS_ARTIFACT,
    (payload, version) => new SegmentModel(decodeSegmentsArtifact(payload), version),
    onRejected,
  );
}
