import { mergeRulesSpecs, RulesError, type RulesSpec } from './rules.js';
import type { StoredPreset } from './rules-presets.js';

/**
 * Rules that depend on the requesting user's segment (`attune segments train`): a spec's `segment` entries
 * `<segment_id>:<preset>` add the named preset's rules when the user is in that segment, as if the request
 * had named it too. In a query (`segment=seg-2:mobile-evening`) or inside a preset, so one page preset can
 * carry a treatment per segment. One level only: `segment` entries inside the added preset are ignored.
 */

export interface SegmentRule {
  readonly segment: string;
  readonly preset: string;
}

const PRESET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses `<segment_id>:<preset>` entries; throws RulesError naming `segment`. */
export function segmentRules(entries: readonly string[] | undefined): SegmentRule[] {
  return (entries ?? []).map((text) => {
    const colon = text.indexOf(':');
    const segment = colon > 0 ? text.slice(0, colon).trim() : '';
    const preset = colon > 0 ? text.slice(colon + 1).trim() : '';
    if (segment === '' || !PRESET_NAME.test(preset)) {
      throw new RulesError('segment', `${JSON.stringify(text)}: expected <segment_id>:<preset>`);
    }
    return { segment, preset };
  });
}

/**
 * The spec with the presets of the user's segment merged in, and its `segment` entries gone (so that
 * requests of different segments with the same outcome share one compiled `Rules`). Asks for the user's
 * segment only when the spec has `segment` entries; a user with no segment (no segmentation, unknown
 * user) matches none. Throws RulesError for a preset that does not exist.
 */
export async function withSegmentRules(
  spec: RulesSpec,
  segmentOf: () => Promise<string | null>,
  presetOf: (name: string) => Promise<StoredPreset | null>,
): Promise<RulesSpec> {
  if (spec.segment === undefined) return spec;
  const rules = segmentRules(spec.segment);
  const { segment: _entries, ...rest } = spec;
  if (rules.length === 0) return rest;
  const segment = await segmentOf();
  let merged: RulesSpec = rest;
  for (const rule of rules) {
    if (rule.segment !== segment) continue;
    const preset = await presetOf(rule.preset);
    if (preset === null) throw new RulesError('segment', `no rules preset ${JSON.stringify(rule.preset)}`);
    const { segment: _nested, ...added } = preset.rules;
    merged = mergeRulesSpecs(merged, added);
  }
  return merged;
}
