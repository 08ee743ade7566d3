import { describe, expect, it } from 'vitest';
import { parsePolicyJson, parsePolicySpec, PolicySpecError } from './policy.js';

function refused(value: unknown): PolicySpecError {
  try {
    parsePolicySpec(value);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicySpecError);
    return error as PolicySpecError;
  }
  throw new Error('expected the policy to be refused');
}

describe('parsePolicySpec', () => {
  it('reads a fixed distribution, rescaling hand-typed decimals to sum to exactly 1', () => {
    const spec = parsePolicySpec({ type: 'fixed', probabilities: { a1: 0.3333, a2: 0.3333, a3: 0.3333 } });
    expect(spec).toMatchObject({ type: 'fixed', by: null });
    if (spec.type !== 'fixed' || spec.by !== null) throw new Error('expected a global fixed policy');
    expect([...spec.probabilities.keys()]).toEqual(['a1', 'a2', 'a3']);
    expect(spec.probabilities.get('a1')).toBeCloseTo(1 / 3, 12);
  });

  it('reads one distribution per position', () => {
    const spec = parsePolicySpec({
      type: 'fixed',
      by: 'position',
      probabilities: { '1': { a: 1 }, '2': { a: 0.5, b: 0.5 } },
    });
    if (spec.type !== 'fixed' || spec.by !== 'position') throw new Error('expected a per-position policy');
    expect(spec.probabilities.get('2')).toEqual(
      new Map([
        ['a', 0.5],
        ['b', 0.5],
      ]),
    );
  });

  it('reads a learner and its parameters', () => {
    expect(parsePolicySpec({ type: 'linucb', alpha: 0.5, ridge: 2 })).toEqual({
      type: 'linucb',
      parameters: { alpha: 0.5, ridge: 2 },
    });
    expect(parsePolicySpec({ type: 'epsilon_greedy' })).toEqual({ type: 'epsilon_greedy', parameters: {} });
  });

  it('names the field of each problem', () => {
    expect(refused([]).message).toBe('policy: expected a JSON object, got an array');
    expect(refused({}).message).toBe(
      'type: expected "fixed", "linucb", "thompson", "epsilon_greedy", got nothing',
    );
    expect(refused({ type: 'greedy' }).message).toMatch(/^type: .* got "greedy"$/);
    expect(refused({ type: 'fixed' }).message).toBe('probabilities: is missing');
    expect(refused({ type: 'fixed', probabilities: {} }).message).toBe('probabilities: names no action');
    expect(refused({ type: 'fixed', probabilities: { a1: 0.5, a2: 0.4 } }).message).toBe(
      'probabilities: the probabilities sum to 0.9, not 1',
    );
    expect(refused({ type: 'fixed', probabilities: { a1: 1.5, a2: -0.5 } }).message).toBe(
      'probabilities.a1: expected a probability in [0, 1], got 1.5',
    );
    expect(refused({ type: 'fixed', probabilities: { 'new item': '1' } }).message).toBe(
      'probabilities["new item"]: expected a probability in [0, 1], got "1"',
    );
    expect(refused({ type: 'fixed', by: 'slot', probabilities: { a: 1 } }).field).toBe('by');
    expect(
      refused({ type: 'fixed', by: 'position', probabilities: { '1': { a: 1 }, '2': { a: 0.2 } } }).message,
    ).toBe('probabilities.2: the probabilities sum to 0.2, not 1');
    expect(refused({ type: 'fixed', by: 'position', probabilities: { '1': 1 } }).field).toBe(
      'probabilities.1',
    );
    expect(refused({ type: 'fixed', probabilites: { a: 1 } }).message).toBe(
      'probabilites: unknown field for a fixed policy (it takes "type", "by", "probabilities")',
    );
    expect(refused({ type: 'linucb', epsilon: 0.1 }).message).toMatch(
      /^epsilon: unknown field for a linucb policy/,
    );
    expect(refused({ type: 'thompson', samples: '100' }).message).toBe(
      'samples: expected a number, got "100"',
    );
  });
});

describe('parsePolicyJson', () => {
  it('says when the text is not JSON', () => {
    expect(() => parsePolicyJson('{"type": fixed}')).toThrow(/^policy: not valid JSON: /);
    expect(parsePolicyJson('{"type":"fixed","probabilities":{"a":1}}').type).toBe('fixed');
  });
});
