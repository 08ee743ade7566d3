import { describe, expect, it } from 'vitest';
import { parseCsv } from '../shared/csv.js';
import { CHURN_MODELS, evaluateChurnModel, logisticScaling } from './index.js';
import { parseRowList, prepareTable, stratifiedSplit, TableInputError } from './table.js';

const CUSTOMERS = parseCsv(
  [
    'id,plan,tenure,spend,churned',
    'a,basic,1,10.5,Yes',
    'b,pro,24, ,No',
    'c,basic,3,20,yes',
    'd,team,36,NA,no',
    'e,pro,12,30,No',
    'f,enterprise,2,40,Yes',
  ].join('\n'),
);

describe('prepareTable', () => {
  it('one-hots text with train categories, fills numeric blanks with the train median', () => {
    // Test rows 3 (team, the only one) and 5 (enterprise, the only one): categories unseen in train.
    const table = prepareTable(CUSTOMERS, { label: 'churned', drop: ['id'], testRows: [3, 5] });
    expect(table.features).toEqual(['plan=basic', 'plan=pro', 'tenure', 'spend']);
    expect(table.numeric).toEqual([2, 3]);
    expect(table.train.rows).toBe(4);
    expect([...table.train.y]).toEqual([1, 0, 1, 0]);
    // Train spend values 10.5, 20, 30 (row b blank): the median 20 fills the blanks, test ones too.
    expect([...table.train.x]).toEqual([1, 0, 1, 10.5, 0, 1, 24, 20, 1, 0, 3, 20, 0, 1, 12, 30]);
    expect([...table.test.y]).toEqual([0, 1]);
    expect([...table.test.x]).toEqual([0, 0, 36, 20, 0, 0, 2, 40]);
  });

  it('reads every label spelling and names the row of a bad one', () => {
    const labels = parseCsv('x,y\n1,TRUE\n2,false\n3,1\n4,0\n5, Yes \n6,No');
    expect([...prepareTable(labels, { label: 'y', testRows: [4, 5] }).train.y]).toEqual([1, 0, 1, 0]);
    const bad = parseCsv('x,y\n1,Yes\n2,maybe');
    expect(() => prepareTable(bad, { label: 'y' })).toThrow(/data row 1 .*"y" has "maybe"/);
  });

  it('names a missing label or drop column, and refuses an identifier kept as a category', () => {
    expect(() => prepareTable(CUSTOMERS, { label: 'Churn' })).toThrow(
      /--label: no column "Churn"; the columns are id,/,
    );
    expect(() => prepareTable(CUSTOMERS, { label: 'churned', drop: ['ID'] })).toThrow(
      /--drop: no column "ID"/,
    );
    expect(() => prepareTable(CUSTOMERS, { label: 'churned', drop: ['churned'] })).toThrow(/is the label/);
    expect(() => prepareTable(parseCsv('a,a,y\n1,2,Yes'), { label: 'y' })).toThrow(/column "a" twice/);
    const rows = Array.from({ length: 200 }, (_, i) => `cust-${i},${i % 2 === 0 ? 'Yes' : 'No'}`);
    const identified = parseCsv(['customer,churn', ...rows].join('\n'));
    expect(() => prepareTable(identified, { label: 'churn' })).toThrow(
      /"customer" has 160 distinct .*--drop "customer"/,
    );
  });

  it('refuses test rows out of range, listed twice, or leaving a class out of a part', () => {
    const options = { label: 'churned', drop: ['id'] };
    expect(() => prepareTable(CUSTOMERS, { ...options, testRows: [6] })).toThrow(/rows 0 to 5/);
    expect(() => prepareTable(CUSTOMERS, { ...options, testRows: [1, 1] })).toThrow(/listed twice/);
    expect(() => prepareTable(CUSTOMERS, { ...options, testRows: [1, 3] })).toThrow(/test rows need both/);
  });

  it('treats a column with any non-number as categorical', () => {
    const table = prepareTable(parseCsv('code,y\n10,Yes\n20,No\nX7,Yes\n10,No'), {
      label: 'y',
      testRows: [2, 3],
    });
    expect(table.features).toEqual(['code=10', 'code=20']);
    expect(table.numeric).toEqual([]);
    expect([...table.test.x]).toEqual([0, 0, 1, 0]);
  });
});

describe('stratifiedSplit', () => {
  it('keeps the churn rate in both parts and depends only on the seed', () => {
    const labels = new Uint8Array(1000).map((_, i) => (i % 4 === 0 ? 1 : 0));
    const isTest = stratifiedSplit(labels, 0.2, 42);
    let test = 0;
    let testPositives = 0;
    for (let i = 0; i < labels.length; i++) {
      test += isTest[i]!;
      if (isTest[i] === 1) testPositives += labels[i]!;
    }
    expect(test).toBe(200);
    expect(testPositives).toBe(50);
    expect([...stratifiedSplit(labels, 0.2, 42)]).toEqual([...isTest]);
    expect([...stratifiedSplit(labels, 0.2, 43)]).not.toEqual([...isTest]);
  });
});

describe('parseRowList', () => {
  it('skips a header and blank lines and names a bad line', () => {
    expect(parseRowList('row\n6\r\n7\n\n9\n')).toEqual([6, 7, 9]);
    expect(parseRowList('3\n1')).toEqual([3, 1]);
    expect(() => parseRowList('row\n6\n-1')).toThrow(TableInputError);
    expect(() => parseRowList('row\n6\nx')).toThrow(/line 3: "x"/);
  });
});

describe('the churn models', () => {
  it('standardise numeric features only and score the test rows', () => {
    // A table where churn follows short tenure, with a categorical plan that carries no signal.
    const lines = ['tenure,plan,churn'];
    for (let i = 0; i < 400; i++) {
      const tenure = (i * 7919) % 60;
      lines.push(`${tenure},${['a', 'b', 'c'][i % 3]},${tenure + ((i * 31) % 23) < 30 ? 'Yes' : 'No'}`);
    }
    const table = prepareTable(parseCsv(lines.join('\n')), { label: 'churn', seed: 1 });
    const scaling = logisticScaling(table);
    expect(scaling.scale[0]).toBeGreaterThan(10);
    expect([...scaling.scale.slice(1)]).toEqual([1, 1, 1]);
    for (const model of CHURN_MODELS) {
      const result = evaluateChurnModel(model, table);
      expect(result.model).toBe(model.name);
      expect(result.auc).toBeGreaterThan(0.9);
      expect(result.logloss).toBeGreaterThan(0);
      expect(result.train_s).toBeGreaterThanOrEqual(0);
    }
  });
});
