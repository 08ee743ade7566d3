import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { Engine, EngineConfig } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import {
  MAX_PER_CATEGORY,
  MAX_SESSION_ITEMS,
  MAX_SESSION_WEIGHT,
  compileRules,
  mergeRulesSpecs,
  presetsFor,
  RulesError,
  type Rules,
  type RulesSpec,
  type StoredPreset,
  withSegmentRules,
} from '../recommendations/index.js';
import { errorBody } from './errors.js';
import { NoContent, TimeSchema, errors } from './reply-schemas.js';

export interface RulesRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const strings = (description: string) => Type.Optional(Type.Array(Type.String(), { description }));

/** The rule parameters, the same in a query and in a preset body (see `recommendations/rules.ts`). */
export const rulesFields = {
  boost: strings('`<expr>[:<factor>]`: lift matching items (factor ≥ 1, default 2; or `+x`).'),
  bury: strings('`<expr>[:<factor>]`: lower matching items (factor 0..1, default 0.5; or `-x`).'),
  pin: strings('`<item_id>:<slot>`: the item at that 0-based slot.'),
  exclude: strings('Item ids never to show (comma lists allowed).'),
  segment: strings("`<segment_id>:<preset>`: add the preset's rules when the user is in that segment."),
  reshow: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'never | always | seen_after_days:N | purchased_never | purchased_after_days:N, … (comma list)',
    }),
  ),
  diversity: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'MMR strength, 0 = off.' })),
  freshness: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'New-item boost, 0 = off.' })),
};

/** Diversity and session settings of one request, over a preset's (`recommendations/rules.ts`). */
export const servingFields = {
  max_per_category: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_PER_CATEGORY,
      description: 'At most this many items of any one category (pins exempt); 0 = off.',
    }),
  ),
  session_weight: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: MAX_SESSION_WEIGHT,
      description: "Weight of the current session against the model's scores; 0 turns it off.",
    }),
  ),
  session_items: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_SESSION_ITEMS,
      description: 'How many of the newest session items count.',
    }),
  ),
};

export const presetBody = Type.Object(
  {
    filter: strings('Property expressions, as in the `filter` query parameter, plus `not purchased`.'),
    category: strings('Only items in any of these categories.'),
    ...rulesFields,
    ...servingFields,
  },
  { additionalProperties: false },
);

// Only the type: the name's content is checked by `readPresetName` (url-params.ts) before the schema runs.
const presetName = Type.Object({ name: Type.String() });

/** What a request's rule parameters say, as a spec (absent parameters stay absent). */
export function rulesSpecFromQuery(query: Partial<Static<typeof presetBody>>): RulesSpec {
  return {
    ...(query.filter ? { filter: query.filter } : {}),
    ...(query.category ? { category: query.category } : {}),
    ...(query.boost ? { boost: query.boost } : {}),
    ...(query.bury ? { bury: query.bury } : {}),
    ...(query.pin ? { pin: query.pin } : {}),
    ...(query.exclude ? { exclude: query.exclude } : {}),
    ...(query.segment ? { segment: query.segment } : {}),
    ...(query.reshow !== undefined ? { reshow: query.reshow } : {}),
    ...(query.diversity !== undefined ? { diversity: query.diversity } : {}),
    ...(query.freshness !== undefined ? { freshness: query.freshness } : {}),
  };
}

/** A request's diversity and session settings, applied over its rules (`withServingOptions`). */
export function servingSpecFromQuery(
  query: Partial<Static<typeof presetBody>>,
): Pick<RulesSpec, 'max_per_category' | 'session_weight' | 'session_items'> {
  return {
    ...(query.max_per_category !== undefined ? { max_per_category: query.max_per_category } : {}),
    ...(query.session_weight !== undefined ? { session_weight: query.session_weight } : {}),
    ...(query.session_items !== undefined ? { session_items: query.session_items } : {}),
  };
}

/** Thrown for `preset=name` naming no preset: a 400 naming the parameter. */
export class UnknownPresetError extends RulesError {
  constructor(name: string) {
    super('preset', `no rules preset ${JSON.stringify(name)}`);
  }
}

/**
 * A request's rules: its preset (if any) extended by its own parameters, then by the presets its
 * `segment` entries name for the user's segment, compiled once. `null` when the request has none, so the
 * serving path stays as it was.
 */
export async function requestRules(
  engine: Engine,
  presetName: string | undefined,
  query: Partial<Static<typeof presetBody>>,
  userId?: string,
): Promise<Rules | null> {
  const presets = presetsFor(engine.store);
  let spec = rulesSpecFromQuery(query);
  if (presetName !== undefined) {
    const preset = await presets.get(presetName);
    if (!preset) throw new UnknownPresetError(presetName);
    spec = mergeRulesSpecs(preset.rules, spec);
  }
  spec = await withSegmentRules(
    spec,
    async () => (userId === undefined ? null : engine.segmentOf(userId)),
    (name) => presets.get(name),
  );
  if (Object.keys(spec).length === 0) return null;
  return compileRules(spec);
}

/** The first variant of an experiment not yet stopped that applies the preset, if any. */
function presetUser(engine: Engine, name: string) {
  for (const experiment of engine.experiments.list()) {
    if (experiment.status === 'stopped') continue;
    const variant = experiment.variants.find((v) => v.treatment.preset === name);
    if (variant) return { experiment: experiment.id, variant: variant.name, status: experiment.status };
  }
  return undefined;
}

const PresetReply = Type.Object(
  {
    name: Type.String(),
    rules: Type.Unsafe<RulesSpec>(
      Type.Object(presetBody.properties, {
        additionalProperties: false,
        description: 'The preset’s rules, as sent.',
      }),
    ),
    updated_at: TimeSchema,
  },
  { additionalProperties: false },
);

function presetJson(preset: StoredPreset) {
  return { name: preset.name, rules: preset.rules, updated_at: formatTime(preset.updatedAt) };
}

/** Saved rule presets: `PUT/GET/DELETE /v1/rules/:name`, applied with `preset=name`. */
export const rulesRoutes: FastifyPluginAsyncTypebox<RulesRoutesOptions> = async (app) => {
  app.put(
    '/v1/rules/:name',
    {
      schema: {
        params: presetName,
        body: presetBody,
        summary: 'Save a rules preset',
        description:
          'Filters, boosts, burials, pins, exclusions, reshow policy, diversity, freshness and session ' +
          'settings under a name, applied to lists with `preset=<name>`.',
        tags: ['rules'],
        response: { 200: PresetReply, ...errors({ 400: 'An invalid rule; the message names the field.' }) },
      },
    },
    async (request, reply) => {
      // Strings that are not well-formed Unicode were refused before (`checkParsedValues`, api/encoding.ts).
      try {
        const spec = { ...rulesSpecFromQuery(request.body), ...servingSpecFromQuery(request.body) };
        const preset = await presetsFor(request.engine.store).put(
          request.params.name,
          spec,
          request.engine.now(),
        );
        return presetJson(preset);
      } catch (error) {
        if (!(error instanceof RulesError)) throw error;
        return reply
          .status(400)
          .send(errorBody('invalid_request', `body field "${error.parameter}": ${error.detail}`));
      }
    },
  );

  app.get(
    '/v1/rules/:name',
    {
      schema: {
        params: presetName,
        summary: 'Get a rules preset',
        tags: ['rules'],
        response: { 200: PresetReply, ...errors({ 404: 'No such preset.' }) },
      },
    },
    async (request, reply) => {
      const preset = await presetsFor(request.engine.store).get(request.params.name);
      if (!preset)
        return reply.status(404).send(errorBody('not_found', `no rules preset "${request.params.name}"`));
      return presetJson(preset);
    },
  );

  app.delete(
    '/v1/rules/:name',
    {
      schema: {
        params: presetName,
        summary: 'Delete a rules preset',
        description:
          'Refused while an experiment that is not stopped has a variant using it: that variant would ' +
          'silently serve without it.',
        tags: ['rules'],
        response: {
          204: NoContent,
          ...errors({ 404: 'No such preset.', 409: 'An experiment that is not stopped uses it.' }),
        },
      },
    },
    async (request, reply) => {
      const user = presetUser(request.engine, request.params.name);
      if (user !== undefined) {
        const message =
          `rules preset "${request.params.name}" is used by variant "${user.variant}" of ${user.status} ` +
          `experiment "${user.experiment}": stop the experiment or change the variant first`;
        return reply.status(409).send(errorBody('conflict', message));
      }
      const existed = await presetsFor(request.engine.store).delete(request.params.name);
      if (!existed)
        return reply.status(404).send(errorBody('not_found', `no rules preset "${request.params.name}"`));
      return reply.status(204).send();
    },
  );
};
