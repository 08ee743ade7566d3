import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { userToJson, validateUser } from '../catalog/index.js';
import type { EngineConfig, UserExport } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import { rowToJson } from '../features/index.js';
import { CONSENTS, isConsent } from '../privacy/index.js';
import { errorBody } from './errors.js';
import { eventToJson } from './events.js';
import { assignmentJson } from './experiments.js';
import { impressionJson } from './recommendations.js';
import { IdSchema } from './url-params.js';

export interface UserRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const UserParams = Type.Object({ id: IdSchema });

/** Users and their traits. A user's events are under `events.ts`. */
export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app) => {
  /**
   * Traits and consent. A body of `consent` alone changes the consent alone (a consent banner must not
   * wipe traits); otherwise the user's traits are replaced, and `consent`, when present, recorded too.
   */
  app.put('/v1/users/:id', { schema: { params: UserParams } }, async (request, reply) => {
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
  });

  /** Everything held about the user, as one JSON document (an access request; admin, audited). */
  app.get('/v1/users/:id/export', { schema: { params: UserParams } }, async (request, reply) => {
    const held = await request.engine.exportUser(request.params.id);
    if (held === null) {
      return reply
        .status(404)
        .send(errorBody('not_found', `nothing is held about user "${request.params.id}"`));
    }
    return userExportJson(held);
  });

  /**
   * Erasure (admin, audited without the id): everything held about the user goes, from the store, the
   * stored and serving models and every cache. 404 when nothing was held.
   */
  app.delete('/v1/users/:id', { schema: { params: UserParams } }, async (request, reply) => {
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
  });

  app.get('/v1/users/:id', { schema: { params: UserParams } }, async (request, reply) => {
    const user = await request.engine.getUser(request.params.id);
    if (!user) return reply.status(404).send(errorBody('not_found', `no user "${request.params.id}"`));
    return { user: { ...userToJson(user), consent: await request.engine.consentOf(user.id) } };
  });
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
