import { describe, expect, it } from 'vitest';
import { RulesError, type RulesSpec } from './rules.js';
import type { StoredPreset } from './rules-presets.js';
import { segmentRules, withSegmentRules } from './rules-segments.js';

const presets: Record<string, RulesSpec> = {
  phones: { boost: ['category=phones:3'], segment: ['seg-1:garden'] },
  garden: { pin: ['g1:0'] },
};
const presetOf = async (name: string): Promise<StoredPreset | null> =>
  presets[name] === undefined ? null : { name, rules: presets[name], updatedAt: 0 };

describe('segment-dependent rules', () => {
  it('adds the preset of the user’s segment, and nothing for another segment', async () => {
    const spec: RulesSpec = { filter: ['available=true'], segment: ['seg-1:phones', 'seg-2:garden'] };
    const inOne = await withSegmentRules(spec, async () => 'seg-1', presetOf);
    expect(inOne.boost).toEqual(['category=phones:3']);
    expect(inOne.filter).toEqual(['available=true']);
    // One level: the added preset's own `segment` entries are not followed.
    expect(inOne.pin).toEqual([]);
    expect(inOne.segment).toBeUndefined();
    const inTwo = await withSegmentRules(spec, async () => 'seg-2', presetOf);
    expect(inTwo.pin).toEqual(['g1:0']);
    expect(inTwo.boost).toEqual([]);
    expect(await withSegmentRules(spec, async () => null, presetOf)).toEqual({ filter: ['available=true'] });
  });

  it('asks for the segment only when the spec has segment entries', async () => {
    let asked = 0;
    const segmentOf = async () => {
      asked++;
      return 'seg-1';
    };
    const spec = { boost: ['brand=acme'] };
    expect(await withSegmentRules(spec, segmentOf, presetOf)).toBe(spec);
    expect(asked).toBe(0);
  });

  it('refuses malformed entries and unknown presets', async () => {
    expect(() => segmentRules(['seg-1'])).toThrow(RulesError);
    expect(() => segmentRules([':phones'])).toThrow(/<segment_id>:<preset>/);
    expect(segmentRules(['seg-1: phones'])).toEqual([{ segment: 'seg-1', preset: 'phones' }]);
    await expect(
      withSegmentRules({ segment: ['seg-1:absent'] }, async () => 'seg-1', presetOf),
    ).rejects.toThrow(/no rules preset "absent"/);
  });
});
