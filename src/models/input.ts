import { assertCsr } from './csr.js';
import type { TrainingInput } from './types.js';

/**
 * Checks what every model relies on before a fit: a well-formed CSR matrix with finite, positive weights,
 * and `times` (if any) aligned with its entries. Cheap next to any fit (one pass over the entries).
 */
export function assertTrainingInput(input: TrainingInput): void {
  const m = input.matrix;
  assertCsr(m, 'training matrix');
  const nnz = m.indptr[m.rows]!;
  for (let k = 0; k < nnz; k++) {
    const w = m.data[k]!;
    if (!(w > 0 && w < Infinity))
      throw new RangeError(`training matrix: entry ${k} has weight ${w}; need > 0`);
  }
  if (input.times !== undefined && input.times.length !== nnz) {
    throw new RangeError(`training input: times has ${input.times.length} entries, the matrix ${nnz}`);
  }
  if (input.now !== undefined && !Number.isFinite(input.now))
    throw new RangeError('training input: now must be finite');
}
