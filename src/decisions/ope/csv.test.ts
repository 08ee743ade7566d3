import { describe, expect, it } from 'vitest';
import { detectDelimiter, parseDecisionLogCsv } from './csv.js';
import { DecisionLogError, checkDecisionLog, timeOrder } from './log.js';

const header = 'action,reward,propensity';

describe('parseDecisionLogCsv', () => {
  it('reads the required columns into codes and typed arrays', () => {
    const log = parseDecisionLogCsv(`${header}\na1,1,0.5\na2,0,0.25\na1,0.5,1\n`);
    expect(log.rows).toBe(3);
    expect(log.actions).toEqual(['a1', 'a2']);
    expect([...log.action]).toEqual([0, 1, 0]);
    expect([...log.reward]).toEqual([1, 0, 0.5]);
    expect([...log.propensity]).toEqual([0.5, 0.25, 1]);
    expect([...log.lines!]).toEqual([2, 3, 4]);
    expect(log.position).toBeNull();
    expect(log.timestamp).toBeNull();
    expect(log.context).toEqual([]);
    expect(() => checkDecisionLog(log)).not.toThrow();
  });

  it('finds the columns by name in any order and case, and the rest are context', () => {
    const log = parseDecisionLogCsv(
      'Country,Propensity,age,ACTION,position,Reward,timestamp\n' +
        'fr,0.5,30,x,1,1,2024-01-02T00:00:00Z\n' +
        'de,0.5,,y,2,0,2024-01-01T00:00:00Z\n' +
        'NA,0.5,41.5,x,1,0,2024-01-03T00:00:00Z\n',
    );
    expect(log.actions).toEqual(['x', 'y']);
    expect(log.positions).toEqual(['1', '2']);
    expect([...log.position!]).toEqual([0, 1, 0]);
    expect([...log.timestamp!]).toEqual([Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 3)]);
    expect([...timeOrder(log)]).toEqual([1, 0, 2]);
    expect(log.context).toHaveLength(2);
    const [country, age] = log.context;
    expect(country).toMatchObject({ kind: 'text', name: 'Country', levels: ['fr', 'de'] });
    expect(country!.kind === 'text' && [...country!.codes]).toEqual([0, 1, -1]);
    expect(age).toMatchObject({ kind: 'numeric', name: 'age' });
    expect(age!.kind === 'numeric' && [...age!.values]).toEqual([30, Number.NaN, 41.5]);
  });

  it('reads quoted fields, CRLF, a byte-order mark, tabs and semicolons', () => {
    const quoted = parseDecisionLogCsv(
      `\uFEFF${header},note\r\n"a,1",1,0.5,"said ""hi""\nthen left"\r\nb,0,0.5,\r\n`,
    );
    expect(quoted.actions).toEqual(['a,1', 'b']);
    expect(quoted.context[0]).toMatchObject({ kind: 'text', levels: ['said "hi"\nthen left'] });
    expect([...quoted.lines!]).toEqual([2, 4]);
    expect(detectDelimiter('action\treward\tpropensity\n')).toBe('\t');
    expect(detectDelimiter('action;reward;propensity\n')).toBe(';');
    expect(parseDecisionLogCsv('action\treward\tpropensity\nx\t1\t0.5\n').actions).toEqual(['x']);
    expect(parseDecisionLogCsv('action;reward;propensity\nx;1;0.5\n').reward[0]).toBe(1);
  });

  it('turns a column text at its first non-number, and leaves out a column with no value', () => {
    const log = parseDecisionLogCsv(
      `${header},code,empty\nx,1,0.5,007,\nx,1,0.5,7,\nx,1,0.5,A1,\nx,1,0.5,,\n`,
    );
    expect(log.context).toHaveLength(1);
    // 007 and 7 are the same number, hence one level.
    expect(log.context[0]).toMatchObject({ kind: 'text', name: 'code', levels: ['7', 'A1'] });
    expect(log.context[0]!.kind === 'text' && [...log.context[0]!.codes]).toEqual([0, 0, 1, -1]);
  });

  it('skips blank lines and takes numeric timestamps', () => {
    const log = parseDecisionLogCsv(`${header},timestamp\n\nx,1,0.5,20\n\ny,0,0.5,10\n`);
    expect(log.rows).toBe(2);
    expect([...log.lines!]).toEqual([3, 5]);
    expect([...timeOrder(log)]).toEqual([1, 0]);
  });

  const fails = (text: string) => {
    try {
      parseDecisionLogCsv(text);
    } catch (error) {
      expect(error).toBeInstanceOf(DecisionLogError);
      return (error as Error).message;
    }
    throw new Error('expected the log to be refused');
  };

  it('names the line of a bad propensity, reward, action, position or timestamp', () => {
    const rows = Array.from({ length: 15 }, () => 'x,1,0.5');
    expect(fails([header, ...rows, 'x,1,0'].join('\n'))).toBe(
      'line 17: propensity must be a number in (0, 1], got "0"',
    );
    expect(fails(`${header}\nx,1,1.5\n`)).toBe('line 2: propensity must be a number in (0, 1], got "1.5"');
    expect(fails(`${header}\nx,1,\n`)).toBe('line 2: propensity must be a number in (0, 1], got ""');
    expect(fails(`${header}\nx,yes,0.5\n`)).toBe('line 2: reward must be a number, got "yes"');
    expect(fails(`${header}\nx,1,0.5\n ,1,0.5\n`)).toBe('line 3: action is empty');
    expect(fails(`${header},position\nx,1,0.5,\n`)).toBe('line 2: position is empty');
    expect(fails(`${header},timestamp\nx,1,0.5,soon\n`)).toBe(
      'line 2: timestamp must be a number or an ISO 8601 date, got "soon"',
    );
    expect(fails(`${header},timestamp\nx,1,0.5,5\nx,1,0.5,2024-01-01\n`)).toBe(
      'line 3: timestamp "2024-01-01" is a date where earlier rows have numbers',
    );
  });

  it('names the line of a row of the wrong width, and counts lines inside quotes', () => {
    expect(fails(`${header}\nx,1,0.5\nx,1\n`)).toBe('line 3: expected 3 fields as in the header, got 2');
    expect(fails(`${header},note\nx,1,0.5,"two\nlines"\nx,1,0.5\n`)).toBe(
      'line 4: expected 4 fields as in the header, got 3',
    );
    expect(fails(`${header}\nx,1,"0.5\n`)).toBe('line 2: a quoted field is not closed');
    expect(fails(`${header}\nx,1,"0.5"x\n`)).toBe('line 2: a closing quote must end its field');
  });

  it('explains a header without the required columns, or no header at all', () => {
    expect(fails('action,reward,prob\nx,1,0.5\n')).toBe(
      'line 1: the header has no column "propensity" (it has: action, reward, prob)',
    );
    expect(fails('x,1,0.5\ny,0,0.5\n')).toMatch(
      /^line 1: expected a header line naming the columns action, reward, propensity .*the first line looks like data: "x,1,0.5"$/,
    );
    expect(fails('action,reward,propensity,Action\n')).toBe(
      'line 1: the header names "Action" twice (columns 1 and 4)',
    );
    expect(fails('')).toMatch(/^line 1: empty input/);
    expect(fails(`${header}\n`)).toBe('line 2: no data rows after the header');
  });
});

describe('checkDecisionLog', () => {
  it('names the row of an invalid value in a log built in memory', () => {
    const log = parseDecisionLogCsv(`${header}\nx,1,0.5\nx,1,0.5\n`);
    expect(() => checkDecisionLog({ ...log, lines: null, propensity: Float64Array.of(0.5, 0) })).toThrow(
      'row 2: propensity must be a number in (0, 1], got 0',
    );
    expect(() => checkDecisionLog({ ...log, reward: Float64Array.of(1) })).toThrow(
      'column reward has 1 values for 2 rows',
    );
  });
});
