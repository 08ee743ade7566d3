import { describe, expect, it } from 'vitest';
import { parseCsv } from '../shared/csv.js';
import { numericMatrix } from './table.js';

// Like the Telco export: an id column, a category, numbers, and a numeric column with a blank (" ").
const CSV = [
  'id,plan,tenure,charges,total',
  'a-1,basic,1,29.85,29.85',
  'b-2,"premium, yearly",34,56.95,1889.5',
  'c-3,basic,0,53.85, ',
  'd-4,basic,45,42.30,1840.75',
  '',
].join('\r\n');

describe('numericMatrix', () => {
  it('keeps the numeric columns and the complete rows', () => {
    const matrix = numericMatrix(parseCsv(CSV));
    expect(matrix.columns).toEqual(['tenure', 'charges', 'total']);
    expect(matrix.rows).toBe(3);
    expect(matrix.droppedRows).toBe(1);
    expect([...matrix.data]).toEqual([1, 29.85, 29.85, 34, 56.95, 1889.5, 45, 42.3, 1840.75]);
  });

  it('z-scores each column with its population standard deviation', () => {
    const matrix = numericMatrix(parseCsv('x,y,z\n1,10,5\n2,20,5\n3,30,5\n'), { standardize: true });
    // x: mean 2, population sd √(2/3); y the same scaled by 10; z is constant: only centred.
    const s = Math.sqrt(3 / 2);
    const expected = [-s, -s, 0, 0, 0, 0, s, s, 0];
    [...matrix.data].forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 12));
  });

  it('leaves out text that only looks numeric in part, and columns with no number at all', () => {
    const matrix = numericMatrix(parseCsv('a,b,c,d\n1,0x1f,,1e3\n2,3,,-.5\n'));
    expect(matrix.columns).toEqual(['a', 'd']);
    expect([...matrix.data]).toEqual([1, 1000, 2, -0.5]);
  });
});
