import { describe, expect, it } from 'vitest';
import { CsvInputError, parseExperimentCsv } from './csv.js';

function failure(text: string, kind: Parameters<typeof parseExperimentCsv>[1]): CsvInputError {
  try {
    parseExperimentCsv(text, kind);
  } catch (error) {
    if (error instanceof CsvInputError) return error;
    throw error;
  }
  throw new Error('expected a CsvInputError');
}

describe('parseExperimentCsv', () => {
  it('groups rows by variant in order of appearance, columns in header order', () => {
    const data = parseExperimentCsv('variant,value,pre_value\nb,1.5,0\ncontrol,2,3.25\nb,0,7\n', 'cuped');
    expect(data.kind).toBe('cuped');
    expect([...data.variants.keys()]).toEqual(['b', 'control']);
    const b = data.variants.get('b')!;
    expect([...b[0]!]).toEqual([1.5, 0]);
    expect([...b[1]!]).toEqual([0, 7]);
    expect([...data.variants.get('control')![1]!]).toEqual([3.25]);
  });

  it('accepts CRLF line ends, a byte-order mark and no final newline', () => {
    const data = parseExperimentCsv(
      '\uFEFFvariant,numerator,denominator\r\ncontrol,3,48\r\ncontrol,0,0',
      'ratio',
    );
    expect([...data.variants.get('control')![1]!]).toEqual([48, 0]);
  });

  it('names the expected header, and the kind whose header it got', () => {
    const error = failure('variant,numerator,denominator\ncontrol,1,2\n', 'mean');
    expect(error.line).toBe(1);
    expect(error.message).toBe(
      'line 1: expected the header "variant,value" for kind mean, got "variant,numerator,denominator" (the header of kind ratio)',
    );
  });

  it('names the line and the column of a bad value', () => {
    const text = 'variant,value\ncontrol,1\nb,2\nb,12,5\n';
    expect(failure(text, 'mean').message).toBe('line 4: expected 2 fields (variant,value), got 3');
    const notNumber = failure('variant,value\ncontrol,1\nb,abc\n', 'mean');
    expect(notNumber.line).toBe(3);
    expect(notNumber.column).toEqual({ index: 2, name: 'value' });
    expect(notNumber.message).toBe('line 3, column 2 (value): "abc" is not a number');
    expect(failure('variant,value\ncontrol,\n', 'mean').message).toMatch(
      /line 2, column 2 \(value\): "" is not/,
    );
    expect(failure('variant,value\ncontrol,Infinity\n', 'mean').message).toMatch(/not a number/);
  });

  it('checks ranges by kind: conversions are 0 or 1, denominators not negative', () => {
    expect(failure('variant,value\ncontrol,1\ncontrol,2\n', 'conversion').message).toBe(
      'line 3, column 2 (value): 2 must be 0 or 1',
    );
    expect(failure('variant,numerator,denominator\ncontrol,1,-3\n', 'ratio').message).toBe(
      'line 2, column 3 (denominator): -3 must not be negative',
    );
    // A mean may be negative (a refund) and written with an exponent.
    expect([
      ...parseExperimentCsv('variant,value\ncontrol,-2.5\ncontrol,1e3\n', 'mean').variants.get(
        'control',
      )![0]!,
    ]).toEqual([-2.5, 1000]);
  });

  it('rejects a bad variant name, an empty file and a header without rows', () => {
    expect(failure('variant,value\nControl,1\n', 'mean').message).toBe(
      'line 2, column 1 (variant): "Control" is not a variant name (lowercase letters, digits and _)',
    );
    expect(failure('', 'srm').message).toMatch(/^line 1: empty input/);
    expect(failure('variant,value\n', 'srm').message).toBe('line 2: no data rows after the header');
  });
});
