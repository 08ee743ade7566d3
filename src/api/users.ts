import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import { userToJson, validateUser } from '../catalog/index.js';
import type { EngineConfig, UserExport } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import { rowToJson } from '../features/index.js';
import { CONSENTS, isConsent } from '../privacy/index.js';
import { errorBody } from './errors.js';
import { eventToJson } from './events.js';
import { assignmentJson } from './experiments.js';
import { impressionJson } from './recommendations.js';
import {
  AssignmentSchema,
  ConsentSchema,
  EventSchema,
  FeatureValuesSchema,
  ImpressionSchema,
  RedactionSchema,
  TimeSchema,
  UserProfileSchema,
  UserBodySchema,
  UserSchema,
  errors,
} from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface UserRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const UserParams = Type.Object({ id: IdSchema });
const closed = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const PutUserReply = Type.Object(
  {
    user: Type.Union([
      Type.Ref(UserSchema),
      Type.Object(
        { id: Type.String(), consent: ConsentSchema },
        { ...closed, description: 'A consent recorded for a user with no stored traits.' },
      ),
    ]),
    redacted: Type.Optional(Type.Array(Type.Ref(RedactionSchema))),
  },
  closed,
);

const UserExportReply = Type.Object(
  {
    format: Type.Literal('attune.user-export'),
    version: Type.Literal(1),
    user_id: Type.String(),
    exported_at: TimeSchema,
    profile: Nullable(Type.Ref(UserProfileSchema)),
    consent: Type.Object(
      {
        value: ConsentSchema,
        recorded: Type.Boolean({ description: 'False: no consent was recorded; the default applies.' }),
      },
      closed,
    ),
    events: Type.Array(Type.Ref(EventSchema)),
    impressions: Type.Array(Type.Ref(ImpressionSchema)),
    experiments: Type.Object(
      {
        holdout: Type.Boolean(),
        assignments: Type.Array(Type.Ref(AssignmentSchema)),
        exposures: Type.Array(
          Type.Object({ experiment: Type.String(), variant: Type.String(), at: TimeSchema }, closed),
        ),
      },
      closed,
    ),
    decisions: Type.Array(
      Type.Object(
        {
          decision_id: Type.String(),
          point: Type.String(),
          at: TimeSchema,
          context: Type.Record(Type.String(), Type.Unknown()),
          offered: Type.Array(Type.String()),
          action: Type.String(),
          propensity: Type.Number(),
          policy: Type.String(),
          experiment: Nullable(Type.Object({ id: Type.String(), variant: Type.String() }, closed)),
          outcome: Nullable(
            Type.Object(
              {
                reward: Type.Number(),
                at: TimeSchema,
                source: Type.Union([
                  Type.Literal('explicit'),
                  Type.Literal('event'),
                  Type.Literal('timeout'),
                ]),
              },
              closed,
            ),
          ),
        },
        closed,
      ),
    ),
    features: Nullable(Type.Ref(FeatureValuesSchema)),
    segment: Nullable(Type.Object({ id: Type.String(), description: Type.String() }, closed)),
    churn: Nullable(
      Type.Object(
        {
          probability: Type.Number(),
          risk_band: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
          drivers: Type.Array(
            Type.Object(
              {
                feature: Type.String(),
                value: Nullable(Type.Number()),
                contribution: Type.Number(),
                text: Type.String(),
              },
              closed,
            ),
          ),
        },
        closed,
      ),
    ),
  },
  { ...closed, description: 'Everything held about the user, in the API’s own shapes.' },
);

const ErasedReply = Type.Object(
  {
    erased: Type.Object(
      {
        user_id: Type.String(),
        events: Type.Integer(),
        impressions: Type.Integer(),
        exposures: Type.Integer(),
        decisions: Type.Integer(),
        profile: Type.Boolean(),
        consent: Type.Boolean(),
        model_versions: Type.Integer({ description: 'Stored model versions rewritten without the user.' }),
        disk_cleared: Type.Boolean({
          description: 'The deleted content is gone from the write-ahead log too.',
        }),
      },
      closed,
    ),
  },
  closed,
);

/** Users and their traits. A user's events are under `events.ts`. */
export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app) => {
  /**
   * Traits and consent. A body of `consent` alone changes the consent alone (a consent banner must not
   * wipe traits); otherwise the user's traits are replaced, and `consent`, when present, recorded too.
   */
  app.put(
    '/v1/users/:id',
    {
      config: { docsBody: Type.Ref(UserBodySchema) },
      schema: {
        params: UserParams,
        summary: 'Set a user’s traits and consent',
        description:
          'The body: `traits` (scalars), `created_at`, `consent` (full, analytics or none). A body of ' +
          '`consent` alone changes only the consent; otherwise the traits are replaced. Traits that look like ' +
          'personal data are redacted and listed in `redacted`.',
        tags: ['users'],
        response: {
          200: PutUserReply,
          ...errors({ 400: 'An invalid field or consent; `details` lists each.' }),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const body = request.body;
      const { consent, rest } = splitConsent(body);
      if (consent !== undefined && !isConsent(consent)) {
        return reply
          .status(400)
          .send(errorBody('invalid_request', `field "consent": must be one of ${CONSENTS.join(', ')}`));
      }
      if (consent !== undefined && rest === null) {
        await request.engine.setConsent(id, consent);
        const user = await request.engine.getUser(id);
        return { user: { ...(user ? userToJson(user) : { id }), consent } };
      }
      const result = validateUser(rest ?? body, id, request.engine.now());
      if ('errors' in result) {
        const message = result.errors.map((e) => `${e.field || 'user'}: ${e.message}`).join('; ');
        return reply.status(400).send(errorBody('invalid_request', message, result.errors));
      }
      const { user, redactions } = await request.engine.putUser(result.user);
      if (consent !== undefined) await request.engine.setConsent(id, consent);
      return {
        user: { ...userToJson(user), consent: await request.engine.consentOf(id) },
        ...(redactions.length > 0 ? { redacted: redactions } : {}),
      };
    },
  );

  /** Everything held about the user, as one JSON document (an access request; admin, audited). */
  app.get(
    '/v1/users/:id/export',
    {
      schema: {
        params: UserParams,
        summary: 'Export everything held about a user',
        description:
          'An access request: profile, consent, events, served lists, experiments, decisions, features, ' +
          'segment and churn score as one document (audited).',
        tags: ['users'],
        response: { 200: UserExportReply, ...errors({ 404: 'Nothing is held about this user.' }) },
      },
    },
    async (request, reply) => {
      const held = await request.engine.exportUser(request.params.id);
      if (held === null) {
        return reply
          .status(404)
          .send(errorBody('not_found', `nothing is held about user "${request.params.id}"`));
      }
      return userExportJson(held);
    },
  );

  /**
   * Erasure (admin, audited without the id): everything held about the user goes, from the store, the
   * stored and serving models and every cache. 404 when nothing was held.
   */
  app.delete(
    '/v1/users/:id',
    {
      schema: {
        params: UserParams,
        summary: 'Erase a user',
        description:
          'Everything held about the user goes: from the store, the stored and serving models and every ' +
          'cache. The reply counts what was removed (audited without the id).',
        tags: ['users'],
        response: { 200: ErasedReply, ...errors({ 404: 'Nothing is held about this user.' }) },
      },
    },
    async (request, reply) => {
      const erased = await request.engine.eraseUser(request.params.id);
      if (erased === null) {
        return reply
          .status(404)
          .send(errorBody('not_found', `nothing is held about user "${request.params.id}"`));
      }
      return {
        erased: {
          user_id: request.params.id,
          events: erased.events,
          impressions: erased.impressions,
          exposures: erased.exposures,
          decisions: erased.decisions,
          profile: erased.profile,
          consent: erased.consent,
          model_versions: erased.modelVersions,
          disk_cleared: erased.diskCleared,
        },
      };
    },
  );

  app.get(
    '/v1/users/:id',
    {
      schema: {
        params: UserParams,
        summary: 'Get a user',
        description: 'The user’s traits and the consent in force (audited).',
        tags: ['users'],
        response: {
          200: Type.Object({ user: Type.Ref(UserSchema) }, closed),
          ...errors({ 404: 'No such user.' }),
        },
      },
    },
    async (request, reply) => {
      const user = await request.engine.getUser(request.params.id);
      if (!user) return reply.status(404).send(errorBody('not_found', `no user "${request.params.id}"`));
      return { user: { ...userToJson(user), consent: await request.engine.consentOf(user.id) } };
    },
  );
};

/**
 * The body's `consent` and the rest of it: `rest` is null when the body holds nothing but `consent` (and
 * perhaps the `id`), so that only the consent changes.
 */
function splitConsent(body: unknown): { consent: unknown; rest: Record<string, unknown> | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, 'consent')) {
    return { consent: undefined, rest: body as Record<string, unknown> | null };
  }
  const { consent, ...rest } = body as Record<string, unknown>;
  const others = Object.keys(rest).filter((key) => key !== 'id');
  return { consent, rest: others.length === 0 ? null : rest };
}

/** The export document: every part of `UserExport` in the API's own JSON shapes. */
function userExportJson(held: UserExport) {
  return {
    format: 'attune.user-export',
    version: 1,
    user_id: held.userId,
    exported_at: formatTime(held.at),
    profile: held.profile === null ? null : userToJson(held.profile),
    consent: { value: held.consent, recorded: held.consentRecorded },
    events: held.events.map(eventToJson),
    impressions: held.impressions.map(impressionJson),
    experiments: {
      holdout: held.assignments.holdout,
      assignments: held.assignments.assignments.map(assignmentJson),
      exposures: held.exposures.map((e) => ({
        experiment: e.experiment,
        variant: e.variant,
        at: formatTime(e.at),
      })),
    },
    decisions: held.decisions.map((d) => ({
      decision_id: d.id,
      point: d.point,
      at: formatTime(d.at),
      context: d.context,
      offered: d.offered,
      action: d.action,
      propensity: d.propensity,
      policy: d.policy,
      experiment: d.experiment,
      outcome: d.outcome && {
        reward: d.outcome.reward,
        at: formatTime(d.outcome.at),
        source: d.outcome.source,
      },
    })),
    features: held.features === null ? null : rowToJson(held.features),
    segment:
      held.segment === null
        ? null
        : { id: held.segment.segment.id, description: held.segment.segment.description },
    churn:
      held.churn === null
        ? null
        : {
            probability: held.churn.probability,
            risk_band: held.churn.riskBand,
            drivers: held.churn.drivers,
          },
  };
}
