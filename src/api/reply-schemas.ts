import { Type, type Static, type TRefUnsafe, type TSchema } from '@sinclair/typebox';

/**
 * The reply shapes several routes share, as named schemas: each is added to the app once (`useApiDocs`,
 * api/openapi.ts) and referenced with `Type.Ref`, so the OpenAPI document has one component per shape
 * (`#/components/schemas/Item`) and a generated client one type. The replies themselves are built by hand
 * in the routes (`itemToJson`, `eventToJson`, …); these schemas describe them, and the test suite checks
 * every 2xx reply against its route's schema (`validateReplies`).
 */

const closed = { additionalProperties: false } as const;

/** A JSON scalar: what traits, attributes, event context and properties hold. */
export const ScalarSchema = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
/** Any JSON value (a variant's `config`, a decision's `payload`). */
export const JsonSchema = Type.Unknown({ description: 'Any JSON value.' });
const ScalarRecord = (description: string) => Type.Record(Type.String(), ScalarSchema, { description });
/** An ISO 8601 UTC time, as every reply writes times (`2026-03-01T12:00:00.000Z`). */
export const TimeSchema = Type.String({ description: 'ISO 8601 UTC time.' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Every error reply (`errorBody`, api/errors.ts). */
export const ErrorReplySchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({
          description:
            'Machine-readable: invalid_request, unauthorized, forbidden, not_found, conflict, rate_limited, …',
        }),
        message: Type.String({ description: 'What was wrong, naming the field at fault.' }),
        details: Type.Optional(Type.Unknown({ description: 'Per-field errors, where there are several.' })),
      },
      closed,
    ),
    status: Type.Optional(
      Type.String({ description: 'Decision rewards refused as `late` or `duplicate`: which.' }),
    ),
  },
  { ...closed, $id: 'ErrorReply', description: 'An error: its code and a message naming what was wrong.' },
);

export const ConsentSchema = Type.Union(
  [Type.Literal('full'), Type.Literal('analytics'), Type.Literal('none')],
  {
    description:
      'full: personalized; analytics: events kept for measurement only; none: events acknowledged, not stored.',
  },
);

export const ItemSchema = Type.Object(
  {
    id: Type.String(),
    categories: Type.Array(Type.String()),
    tags: Type.Array(Type.String()),
    price: Nullable(Type.Number()),
    available: Type.Boolean(),
    created_at: TimeSchema,
    expires_at: Nullable(TimeSchema),
    attributes: ScalarRecord('Free-form item properties.'),
    updated_at: TimeSchema,
  },
  { ...closed, $id: 'Item', description: 'A catalog item, in the shape `PUT /v1/items/:id` accepts.' },
);

const userFields = {
  id: Type.String(),
  traits: ScalarRecord('The user’s traits as last sent (personal data redacted).'),
  created_at: TimeSchema,
  updated_at: TimeSchema,
};

/** A user's stored profile (in an export). */
export const UserProfileSchema = Type.Object(userFields, {
  ...closed,
  $id: 'UserProfile',
  description: 'A user’s stored traits.',
});

/** A user with the consent in force. */
export const UserSchema = Type.Object(
  { ...userFields, consent: ConsentSchema },
  { ...closed, $id: 'User', description: 'A user’s traits and the consent in force.' },
);

export const EventSchema = Type.Object(
  {
    event_id: Type.String(),
    event: Type.String({ description: 'The event name (`product_viewed`, `purchased`, …).' }),
    user_id: Type.String(),
    item_id: Nullable(Type.String()),
    timestamp: TimeSchema,
    received_at: TimeSchema,
    context: ScalarRecord('The request context as sent (device, page, …).'),
    properties: ScalarRecord('Event properties as sent (price, request_id, …).'),
  },
  { ...closed, $id: 'Event', description: 'A stored event.' },
);

export const ReasonKindSchema = Type.Union([
  Type.Literal('because_item'),
  Type.Literal('taste'),
  Type.Literal('popular'),
  Type.Literal('new'),
  Type.Literal('similar_item'),
  Type.Literal('pinned'),
  Type.Literal('boosted'),
]);

export const RecommendedItemSchema = Type.Object(
  {
    item_id: Type.String(),
    score: Type.Number(),
    reason: Type.String({ description: 'Why, in words ("Because you viewed …").' }),
    reason_kind: ReasonKindSchema,
    reason_item_id: Type.Optional(Type.String({ description: 'The item the reason points at.' })),
  },
  { ...closed, $id: 'RecommendedItem', description: 'One item of a served list.' },
);

export const ImpressionSchema = Type.Object(
  {
    request_id: Type.String(),
    user_id: Type.String(),
    surface: Type.String({ description: '`recommendations` or `similar`.' }),
    created_at: TimeSchema,
    model: Type.String(),
    model_version: Type.Number(),
    fallback: Type.Boolean(),
    items: Type.Array(
      Type.Object(
        {
          item_id: Type.String(),
          position: Type.Integer({ description: '0-based position in the served list.' }),
          score: Type.Number(),
        },
        closed,
      ),
    ),
  },
  { ...closed, $id: 'Impression', description: 'A served list as logged.' },
);

const treatmentFields = {
  model: Type.Optional(Type.String({ description: 'The model that ranks the variant’s lists.' })),
  preset: Type.Optional(Type.String({ description: 'The rules preset applied to the variant’s lists.' })),
  policy: Type.Optional(Type.String({ description: 'Who chooses at a targeted decision point.' })),
};

export const AssignmentSchema = Type.Object(
  {
    experiment: Type.String(),
    variant: Type.String(),
    control: Type.Boolean(),
    ...treatmentFields,
    config: Type.Unknown({ description: 'The variant’s client config (any JSON), or null.' }),
  },
  { ...closed, $id: 'Assignment', description: 'Where a user landed in one experiment.' },
);

/** The comparisons an audience condition may make (`experiments/definition.ts` checks the same). */
export const AudienceOpSchema = Type.Union([
  Type.Literal('eq'),
  Type.Literal('neq'),
  Type.Literal('in'),
  Type.Literal('gt'),
  Type.Literal('gte'),
  Type.Literal('lt'),
  Type.Literal('lte'),
  Type.Literal('exists'),
]);

export const AudienceConditionSchema = Type.Object(
  {
    trait: Type.String(),
    op: AudienceOpSchema,
    value: Type.Optional(Type.Union([ScalarSchema, Type.Array(ScalarSchema)])),
  },
  closed,
);

export const ExperimentSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    status: Type.Union([Type.Literal('draft'), Type.Literal('running'), Type.Literal('stopped')]),
    target: Type.String({ description: '`recommendations` or `decision:<point>`.' }),
    layer: Type.String(),
    traffic: Type.Number({ description: 'The share of the layer’s users the experiment takes, in (0, 1].' }),
    layer_range: Type.Array(Type.Number(), {
      minItems: 2,
      maxItems: 2,
      description: '[start, end) of the experiment’s slice of its layer.',
    }),
    variants: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          weight: Type.Number(),
          control: Type.Boolean(),
          ...treatmentFields,
          config: Type.Optional(JsonSchema),
          exposed_users: Type.Optional(
            Type.Integer({ description: 'Users exposed so far (`GET /v1/experiments/:id` only).' }),
          ),
        },
        closed,
      ),
    ),
    audience: Type.Array(AudienceConditionSchema),
    metrics: Type.Array(Type.String(), { description: 'Metric names; the first is primary.' }),
    guardrails: Type.Array(Type.String()),
    created_at: TimeSchema,
    updated_at: TimeSchema,
    started_at: Nullable(TimeSchema),
    stopped_at: Nullable(TimeSchema),
    revision: Type.Integer(),
  },
  { ...closed, $id: 'Experiment', description: 'An experiment definition and its state.' },
);

/** An array schema whose static type is readonly: the engine's records hold readonly arrays. */
export const readonlyArray = <T extends TSchema>(items: T, options: { description?: string } = {}) =>
  Type.Unsafe<readonly Static<T>[]>(Type.Array(items, options));

/** One candidate automatic selection measured (`Trial`, evaluation/auto.ts). */
const TrialSchema = Type.Object(
  {
    model: Type.String(),
    params: JsonSchema,
    valNdcg: Nullable(Type.Number()),
    seconds: Type.Number(),
    skipped: Type.Optional(Type.String()),
    msPerUser: Type.Optional(Type.Number({ description: 'Milliseconds per validation user to score.' })),
    overBudget: Type.Optional(Type.Boolean({ description: 'Over the scoring budget: could not be chosen.' })),
  },
  closed,
);

/** How a re-ranker was trained and how it did (`RerankerInfo`, ranking/reranker.ts). */
const RerankerInfoSchema = Type.Object(
  {
    source: Type.Union([Type.Literal('impressions'), Type.Literal('candidates')]),
    trainLists: Type.Integer(),
    validationLists: Type.Integer(),
    k: Type.Integer(),
    ndcg: Type.Number(),
    generatorNdcg: Type.Number(),
    gainStandardError: Type.Number(),
    trees: Type.Integer(),
    objective: Type.Optional(
      Type.Union([Type.Literal('regression'), Type.Literal('binary'), Type.Literal('rank')], {
        description: 'What the trees fit: chosen on the validation lists (absent in older versions).',
      }),
    ),
    positionWeights: Type.Optional(readonlyArray(Type.Number())),
    depth: Type.Optional(
      Type.Integer({
        description:
          'The longest list it learnt from: serving re-orders the model’s top this many candidates (absent in older versions).',
      }),
    ),
    importances: readonlyArray(Type.Object({ feature: Type.String(), gain: Type.Number() }, closed)),
  },
  { ...closed, description: 'The re-ranker’s training: what it learnt from and how it did on later lists.' },
);

/** `bundleJson` (api/admin.ts): one trained model version. */
export const ModelVersionSchema = Type.Object(
  {
    version: Type.Integer(),
    trained_at: TimeSchema,
    position: Type.Integer({ description: 'The event-log position trained through.' }),
    primary_model: Type.String(),
    events_read: Type.Integer(),
    users: Type.Integer(),
    items: Type.Integer(),
    interactions: Type.Integer(),
    fit_seconds: Type.Record(Type.String(), Type.Number(), { description: 'Fit time per model.' }),
    selection: Nullable(
      Type.Object(
        {
          mode: Type.Literal('auto'),
          chosen: Type.Object({ model: Type.String(), params: JsonSchema }, closed),
          valNdcg: Nullable(Type.Number()),
          fallback: Nullable(Type.String()),
          validationUsers: Type.Integer(),
          validationPairs: Type.Integer(),
          seconds: Type.Number(),
          tried: readonlyArray(TrialSchema, { description: 'Every candidate measured on validation.' }),
        },
        {
          ...closed,
          description: 'What automatic selection tried and chose; null when the model was fixed by config.',
        },
      ),
    ),
    reranking: Nullable(
      Type.Object(
        {
          chosen: Type.Boolean(),
          skipped: Nullable(Type.String()),
          forced: Type.Optional(Type.String()),
          info: Nullable(RerankerInfoSchema),
        },
        { ...closed, description: 'The re-ranker attempt; null when the run did not try.' },
      ),
    ),
  },
  { ...closed, $id: 'ModelVersion', description: 'A trained model version.' },
);

const Bounds = Type.Object({ min: Type.Number(), max: Type.Number() }, closed);
const NumberRecord = Type.Record(Type.String(), Type.Number());

/** `pointJson` (decisions/points/definition.ts). */
export const decisionPointFields = {
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  actions: Type.Array(
    Type.Object(
      { id: Type.String(), features: NumberRecord, params: NumberRecord, payload: JsonSchema },
      closed,
    ),
  ),
  parameters: Type.Record(Type.String(), Bounds),
  features: Type.Array(
    Type.Object(
      {
        source: Type.String({ description: 'context, trait, user or segment.' }),
        name: Type.String(),
        type: Type.Union([Type.Literal('number'), Type.Literal('category'), Type.Literal('hour')]),
        transform: Type.Optional(Type.String()),
        values: Type.Optional(Type.Array(Type.String())),
      },
      closed,
    ),
  ),
  layout: Type.Union([Type.Literal('disjoint'), Type.Literal('shared')]),
  learner: Type.Object(
    { kind: Type.String({ description: 'linucb, thompson or epsilon_greedy.' }) },
    { additionalProperties: Type.Number(), description: 'The learner and its numeric parameters.' },
  ),
  mode: Type.Union([Type.Literal('learn'), Type.Literal('apprentice')]),
  default_action: Type.String(),
  reward: Type.Object(
    {
      source: Type.Union([Type.Literal('explicit'), Type.Literal('event')]),
      window: Type.String({ description: '`90m`, `12h`, `7d`.' }),
      event: Type.Optional(Type.String()),
      value: Type.Optional(Type.Union([Type.Literal('once'), Type.Literal('sum')])),
      property: Type.Optional(Type.String()),
    },
    closed,
  ),
  default_reward: Type.Number(),
  rules: Type.Array(
    Type.Object(
      {
        when: Type.Array(
          Type.Object(
            {
              field: Type.String(),
              op: Type.String(),
              value: Type.Optional(Type.Union([ScalarSchema, Type.Array(ScalarSchema)])),
            },
            closed,
          ),
        ),
        exclude: Type.Array(Type.String()),
        min: NumberRecord,
        max: NumberRecord,
      },
      closed,
    ),
  ),
  guardrails: Nullable(Type.Object({ min_decisions: Type.Integer(), confidence: Type.Number() }, closed)),
  revision: Type.Integer(),
  created_at: TimeSchema,
  updated_at: TimeSchema,
};

export const DecisionPointSchema = Type.Object(decisionPointFields, {
  ...closed,
  $id: 'DecisionPoint',
  description: 'A decision point’s definition, with its revision and times.',
});

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    app: Type.String(),
    scope: Type.Union([Type.Literal('ingest'), Type.Literal('server'), Type.Literal('admin')]),
    name: Nullable(Type.String()),
    created_at: TimeSchema,
    revoked_at: Nullable(TimeSchema),
  },
  { ...closed, $id: 'ApiKey', description: 'An API key (never its secret).' },
);

export const RedactionSchema = Type.Object(
  {
    field: Type.String({ description: '`context.email`, `properties.lat`, `traits.phone`.' }),
    action: Type.Union([Type.Literal('removed'), Type.Literal('coarsened')]),
    reason: Type.String({ description: 'ip_address, email, phone or coordinates.' }),
  },
  {
    ...closed,
    $id: 'Redaction',
    description: 'A field not stored as sent because it looks like personal data.',
  },
);

/** A feature row: column → value (a missing number is null). */
export const FeatureValuesSchema = Type.Record(
  Type.String(),
  Type.Union([Type.Number(), Type.String(), Type.Null()]),
  {
    $id: 'FeatureValues',
    description: 'Feature column → value; null when missing.',
  },
);

/** Every named schema, in the order they are added to the app. */
export const SHARED_REPLY_SCHEMAS: readonly TSchema[] = [
  ErrorReplySchema,
  ItemSchema,
  UserProfileSchema,
  UserSchema,
  EventSchema,
  RecommendedItemSchema,
  ImpressionSchema,
  AssignmentSchema,
  ExperimentSchema,
  ModelVersionSchema,
  DecisionPointSchema,
  ApiKeySchema,
  RedactionSchema,
  FeatureValuesSchema,
];

/** `Type.Ref` to a shared schema (its `$id`), typed as the schema. */
export const ref = <T extends TSchema>(schema: T) => Type.Ref(schema);

/** The shared error reply, by reference: for each 4xx a route documents. */
export const ErrorReply = Type.Ref(ErrorReplySchema);

/** The reply of a route that answers with no body (`type: null`: the document lists no content). */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'No content.' });

/** `{ response: { 404: …, … } }` entries for the error statuses a route answers, each with what it means. */
export function errors<S extends Readonly<Record<number, string>>>(
  statuses: S,
): { [K in keyof S]: TRefUnsafe<typeof ErrorReplySchema> } {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      Type.Ref(ErrorReplySchema, { description }),
    ]),
  ) as { [K in keyof S]: TRefUnsafe<typeof ErrorReplySchema> };
}

// --- request bodies checked by hand-written readers (documentation only) --------------------------------

const Time = Type.Union([Type.String(), Type.Number()], {
  description: 'ISO 8601, or milliseconds since the epoch.',
});

/** One event, as `events/validate.ts` reads it. */
export const EventBodySchema = Type.Object(
  {
    event: Type.String({ maxLength: 200, description: '`product_viewed`, `added_to_cart`, `purchased`, …' }),
    user_id: Type.String(),
    item_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    product_id: Type.Optional(Type.String({ description: 'Another name for `item_id`.' })),
    timestamp: Type.Optional(Time),
    event_id: Type.Optional(Type.String({ description: 'Makes a resend idempotent.' })),
    context: Type.Optional(ScalarRecord('Device, page, …')),
    properties: Type.Optional(
      ScalarRecord('Price, quantity, `request_id` (links a click or purchase to the list it came from), …'),
    ),
  },
  { ...closed, $id: 'EventBody', description: 'An event to store.' },
);

/** An item, as `catalog/validate.ts` reads it (`PUT /v1/items/:id`, and each of `POST /v1/items`). */
export const ItemBodySchema = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'Required in a bulk body; in the path otherwise.' })),
    categories: Type.Optional(Type.Array(Type.String())),
    category: Type.Optional(Type.String({ description: 'One category (instead of `categories`).' })),
    tags: Type.Optional(Type.Array(Type.String())),
    price: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    available: Type.Optional(Type.Boolean()),
    created_at: Type.Optional(Time),
    expires_at: Type.Optional(Type.Union([Time, Type.Null()])),
    attributes: Type.Optional(ScalarRecord('Free-form item properties.')),
    updated_at: Type.Optional(Time),
  },
  { ...closed, $id: 'ItemBody', description: 'A catalog item.' },
);

/** The body of `PUT /v1/users/:id` (`catalog/validate.ts` and the consent). */
export const UserBodySchema = Type.Object(
  {
    id: Type.Optional(Type.String()),
    traits: Type.Optional(ScalarRecord('The user’s traits (replaced as a whole).')),
    created_at: Type.Optional(Time),
    updated_at: Type.Optional(Time),
    consent: Type.Optional(ConsentSchema),
  },
  { ...closed, $id: 'UserBody', description: 'A user’s traits and consent.' },
);

/** Request bodies read by hand (no schema validates them): documented through `config.docsBody`. */
export const DOCUMENTED_BODY_SCHEMAS: readonly TSchema[] = [EventBodySchema, ItemBodySchema, UserBodySchema];
