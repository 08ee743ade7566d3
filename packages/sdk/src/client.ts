import type {
  GetAssignmentsReply,
  GetItemsSimilarQuery,
  GetItemsSimilarReply,
  GetRecommendationsQuery,
  GetRecommendationsReply,
  PostDecisionsByIdBody,
  PostDecisionsByIdReply,
  PostDecisionsRewardReply,
  PostExposuresReply,
  PutUsersByIdReply,
} from './generated/api.js';
import { createTrackerCore } from './tracker.js';
import { query, segment } from './transport.js';
import type {
  CommonOptions,
  FlushResult,
  IdentifyOptions,
  PageOptions,
  ScalarRecord,
  TrackOptions,
} from './types.js';

export interface ClientOptions extends CommonOptions {
  /** A server key (or admin key): keep it on the server. */
  apiKey: string;
}

/** `GET /v1/recommendations`'s query parameters beside `user_id`, named as in the API. */
export type RecommendationsOptions = Omit<GetRecommendationsQuery, 'user_id'>;
/** `GET /v1/items/:id/similar`'s query parameters, named as in the API. */
export type SimilarOptions = GetItemsSimilarQuery;
/** `POST /v1/decisions/:point`'s body beside `user_id`. */
export type DecideOptions = Omit<PostDecisionsByIdBody, 'user_id'>;

export interface ExposureOptions {
  /** When the user saw the variant; now by default (a time in the future is taken as now). */
  timestamp?: Date | number | string;
}

/**
 * Everything a product's backend asks of Attune, with a server key. Events are queued and sent in batches
 * as by the tracker; every other method is one request, retried when that is safe, and resolves to the
 * engine's reply (typed from the OpenAPI document) or rejects with an `AttuneError`.
 */
export interface Client {
  /** Queues an event for `userId`; returns its `event_id`. */
  track(event: string, options: TrackOptions & { userId: string }): string;
  /** Queues a `page_viewed` event with `url`, `path`, `title` and `referrer` as properties. */
  page(options: PageOptions & { userId: string; url: string }): string;
  /** `PUT /v1/users/:id`: the user's traits (replacing the stored ones) and/or consent, sent now. */
  identify(userId: string, traits?: ScalarRecord, options?: IdentifyOptions): Promise<PutUsersByIdReply>;
  /** `GET /v1/recommendations`: the user's list (`n` items, 10 by default). */
  recommendations(userId: string, options?: RecommendationsOptions): Promise<GetRecommendationsReply>;
  /** `GET /v1/items/:id/similar`: items like `itemId`. */
  similar(itemId: string, options?: SimilarOptions): Promise<GetItemsSimilarReply>;
  /** `POST /v1/decisions/:point`: the action the point chooses for the user. Not retried once it may have been made. */
  decide(point: string, userId: string, options?: DecideOptions): Promise<PostDecisionsByIdReply>;
  /** `POST /v1/decisions/:point/reward`: the outcome of a decision. */
  reward(point: string, decisionId: string, value: number): Promise<PostDecisionsRewardReply>;
  /** `GET /v1/assignments`: the user's experiment variants and whether they are held out. */
  assignments(userId: string): Promise<GetAssignmentsReply>;
  /** `POST /v1/exposures`: the user saw the experiment (client-side rendering); the first one counts. */
  exposure(userId: string, experiment: string, options?: ExposureOptions): Promise<PostExposuresReply>;
  /** Sends every queued event now. */
  flush(): Promise<FlushResult>;
  /** Sends every queued event and stops the timers: call before the process exits. */
  close(): Promise<FlushResult>;
}

export function createClient(options: ClientOptions): Client {
  const core = createTrackerCore(options, `Bearer ${options.apiKey}`);
  const send = core.send;
  return {
    track: (event, o) => core.track(event, o),
    page: (o) => core.page(o),
    identify(userId, traits, o = {}) {
      return send<PutUsersByIdReply>(
        'PUT',
        `/v1/users/${segment(userId)}`,
        {
          ...(traits === undefined ? {} : { traits }),
          ...(o.consent === undefined ? {} : { consent: o.consent }),
        },
        { retry: 'all' },
      );
    },
    recommendations: (userId, o = {}) =>
      send<GetRecommendationsReply>(
        'GET',
        `/v1/recommendations${query({ user_id: userId, ...o })}`,
        undefined,
        {
          retry: 'all',
        },
      ),
    similar: (itemId, o = {}) =>
      send<GetItemsSimilarReply>('GET', `/v1/items/${segment(itemId)}/similar${query(o)}`, undefined, {
        retry: 'all',
      }),
    decide: (point, userId, o = {}) =>
      send<PostDecisionsByIdReply>(
        'POST',
        `/v1/decisions/${segment(point)}`,
        { user_id: userId, ...o },
        {
          retry: 'unprocessed',
        },
      ),
    // A reward sent twice is refused (409), never counted twice; a lost reply is still not retried, so
    // that a 409 never stands for a reward that was in fact recorded.
    reward: (point, decisionId, value) =>
      send<PostDecisionsRewardReply>(
        'POST',
        `/v1/decisions/${segment(point)}/reward`,
        { decision_id: decisionId, value },
        { retry: 'unprocessed' },
      ),
    assignments: (userId) =>
      send<GetAssignmentsReply>('GET', `/v1/assignments${query({ user_id: userId })}`, undefined, {
        retry: 'all',
      }),
    exposure: (userId, experiment, o = {}) =>
      send<PostExposuresReply>(
        'POST',
        '/v1/exposures',
        {
          user_id: userId,
          experiment,
          ...(o.timestamp === undefined
            ? {}
            : { timestamp: o.timestamp instanceof Date ? o.timestamp.toISOString() : o.timestamp }),
        },
        { retry: 'all' },
      ),
    flush: () => core.flush(),
    close: () => core.close(),
  };
}
