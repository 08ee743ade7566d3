import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv, parseCsvRecords } from './csv.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF and a byte-order mark', () => {
    const text = '\uFEFFid,name,note\r\n1,"Smith, J","said ""hi""\nthen left"\r\n2,plain,\r\n';
    expect(parseCsv(text)).toEqual({
      header: ['id', 'name', 'note'],
      rows: [
        ['1', 'Smith, J', 'said "hi"\nthen left'],
        ['2', 'plain', ''],
      ],
    });
  });

  it('keeps blank fields blank and reads a last line without a line break', () => {
    expect(parseCsvRecords('a,b\n,x\ny,')).toEqual([
      ['a', 'b'],
      ['', 'x'],
      ['y', ''],
    ]);
  });

  it('names the line of a row of the wrong width and of an unclosed quote', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n')).toThrow(
      new CsvError(3, 'expected 2 fields as in the header, got 1'),
    );
    // The line where the record with the open quote starts, not where the input ran out.
    expect(() => parseCsv('a,b\n1,"2\n')).toThrow(/line 2: a quoted field is not closed/);
    expect(() => parseCsv('a,b\n"1"x,2\n')).toThrow(/line 2: a closing quote must end its field/);
    expect(() => parseCsv('')).toThrow(/line 1: empty input/);
  });
});
