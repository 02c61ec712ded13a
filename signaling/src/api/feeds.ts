// /api/feeds: drone and camera feeds (operators issue their stream keys), and sharing a feed into
// a running meeting.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ProtocolError } from '../errors.js';
import { newStreamKey } from '../feeds/FeedManager.js';
import { FEED_KINDS, type FeedRecord } from '../store/types.js';
import type { ApiContext } from './ApiDeps.js';
import { ApiError, notFound } from './ApiError.js';
import { principalName } from './authorize.js';
import { getMeeting } from './meetings.js';
import { json, noContent } from './reply.js';
import { route, type Route } from './Route.js';
import { idParams, itemsOf, meetingIdSchema } from './schemas.js';

const TAG = 'feeds';

const feedIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'feed ids are 1–64 characters of A–Z a–z 0–9 _ -');
const feedParams = z.strictObject({ id: feedIdSchema });
const pullUrlSchema = z
  .string()
  .max(1000)
  .regex(/^(rtsp|rtsps|srt):\/\/\S+$/, 'a pulled feed needs an rtsp://, rtsps:// or srt:// URL');

const createFeedBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).meta({ description: 'What the wall shows, e.g. 1号无人机（城东）' }),
    kind: z.enum(FEED_KINDS).meta({ description: 'rtmp / whip: pushed with the issued stream key; rtsp / srt: pulled from url' }),
    url: pullUrlSchema.optional(),
    transcode: z.boolean().default(false).meta({ description: 'Re-encode the video even when it could be forwarded' }),
  })
  .superRefine((body, context) => {
    const pulled = body.kind === 'rtsp' || body.kind === 'srt';
    if (pulled && !body.url) context.addIssue({ code: 'custom', path: ['url'], message: `a ${body.kind} feed needs the url to pull` });
    if (!pulled && body.url) context.addIssue({ code: 'custom', path: ['url'], message: `a ${body.kind} feed is pushed to us: it has no url` });
    if (pulled && body.url && !body.url.startsWith(body.kind === 'srt' ? 'srt:' : 'rtsp')) {
      context.addIssue({ code: 'custom', path: ['url'], message: `the url does not match kind ${body.kind}` });
    }
  });

const updateFeedBody = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  url: pullUrlSchema.optional(),
  transcode: z.boolean().optional(),
  rotateKey: z.literal(true).optional().meta({ description: 'Issue a new stream key; the old one stops working at once' }),
});

const feedStatusSchema = z.looseObject({
  state: z.enum(['waiting', 'live', 'reconnecting', 'failed']),
  since: z.number(),
  liveSince: z.number().nullable(),
  error: z.string().nullable(),
  bitrateKbps: z.number(),
  sharedInto: z.array(z.string()),
});

const feedSchema = z
  .strictObject({
    id: feedIdSchema,
    name: z.string(),
    kind: z.enum(FEED_KINDS),
    streamKey: z.string().nullable(),
    url: z.string().nullable(),
    transcode: z.boolean(),
    createdBy: z.string(),
    createdAt: z.number(),
    publish: z
      .strictObject({ rtmp: z.string().optional(), whip: z.string().optional(), bearerToken: z.string().optional() })
      .meta({ description: 'Where the publisher sends to: the RTMP URL (server + stream key), or the WHIP endpoint and its bearer token' }),
    status: feedStatusSchema.nullable(),
  })
  .meta({ title: 'Feed' });

const shareBody = z.strictObject({ feedId: feedIdSchema });
const shareParams = z.strictObject({ id: meetingIdSchema, feedId: feedIdSchema });

function requestHost(req: IncomingMessage): string {
  const host = req.headers.host ?? 'localhost';
  return host.replace(/:\d+$/, '');
}

export function feedRoutes(api: ApiContext): Route[] {
  const { store } = api;
  const feeds = (): NonNullable<ApiContext['feeds']> => {
    if (!api.feeds) throw new ApiError('CONFLICT', 'this server runs without feeds');
    return api.feeds;
  };
  const getFeed = (id: string): FeedRecord => {
    const feed = store.feeds.get(id);
    if (!feed) throw notFound(`feed "${id}"`, 'list the feeds with GET /api/feeds');
    return feed;
  };
  const view = (feed: FeedRecord, req: IncomingMessage) => {
    const publish: { rtmp?: string; whip?: string; bearerToken?: string } = {};
    if (feed.kind === 'rtmp' && feed.streamKey) {
      publish.rtmp = api.rtmpPort ? `rtmp://${requestHost(req)}:${api.rtmpPort}/live/${feed.streamKey}` : undefined;
    }
    if (feed.kind === 'whip' && feed.streamKey) {
      publish.whip = `${api.publicUrl(req)}/whip/${feed.id}`;
      publish.bearerToken = feed.streamKey;
    }
    return { ...feed, publish, status: api.feeds?.status(feed.id) ?? null };
  };

  return [
    route({
      method: 'GET',
      path: '/api/feeds',
      summary: 'List the feeds with their publish addresses and live status',
      tag: TAG,
      access: 'operator',
      responses: { 200: { description: 'every feed', schema: itemsOf(feedSchema) } },
      handle: ({ req }) => json({ items: store.feeds.list().map((feed) => view(feed, req)) }),
    }),
    route({
      method: 'POST',
      path: '/api/feeds',
      summary: 'Create a feed and issue its stream key (RTMP/WHIP) or start pulling it (RTSP/SRT)',
      tag: TAG,
      access: 'operator',
      body: createFeedBody,
      responses: { 201: { description: 'the feed, with where to publish to', schema: feedSchema } },
      handle: async ({ body, principal, now, req }) => {
        const pushed = body.kind === 'rtmp' || body.kind === 'whip';
        const feed: FeedRecord = {
          id: randomUUID(),
          name: body.name,
          kind: body.kind,
          streamKey: pushed ? newStreamKey() : null,
          url: pushed ? null : body.url!,
          transcode: body.transcode,
          createdBy: principalName(principal),
          createdAt: now,
        };
        store.feeds.create(feed);
        await feeds().apply(feed);
        api.logger.info({ feedId: feed.id, kind: feed.kind, by: feed.createdBy }, 'feed created');
        return json(view(feed, req), 201);
      },
    }),
    route({
      method: 'GET',
      path: '/api/feeds/{id}',
      summary: 'One feed',
      tag: TAG,
      access: 'operator',
      params: feedParams,
      responses: { 200: { description: 'the feed', schema: feedSchema } },
      handle: ({ params, req }) => json(view(getFeed(params.id), req)),
    }),
    route({
      method: 'PATCH',
      path: '/api/feeds/{id}',
      summary: 'Rename a feed, change its source or settings, or issue a new stream key',
      tag: TAG,
      access: 'operator',
      params: feedParams,
      body: updateFeedBody,
      responses: { 200: { description: 'the changed feed (restarted when its source changed)', schema: feedSchema } },
      handle: async ({ params, body, req }) => {
        const current = getFeed(params.id);
        const pulled = current.kind === 'rtsp' || current.kind === 'srt';
        if (body.url !== undefined && !pulled) throw new ApiError('BAD_REQUEST', `a ${current.kind} feed is pushed to us: it has no url`);
        if (body.rotateKey && pulled) throw new ApiError('BAD_REQUEST', `a ${current.kind} feed is pulled: it has no stream key`);
        const updated = store.feeds.update(current.id, {
          name: body.name,
          url: body.url,
          transcode: body.transcode,
          streamKey: body.rotateKey ? newStreamKey() : undefined,
        })!;
        await feeds().apply(updated);
        return json(view(updated, req));
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/feeds/{id}',
      summary: 'Delete a feed: its publisher is disconnected and it leaves every meeting',
      tag: TAG,
      access: 'operator',
      params: feedParams,
      responses: { 204: { description: 'deleted' } },
      handle: async ({ params }) => {
        getFeed(params.id);
        await feeds().remove(params.id);
        store.feeds.delete(params.id);
        return noContent;
      },
    }),
    route({
      method: 'POST',
      path: '/api/meetings/{id}/feeds',
      summary: 'Share a feed into a running meeting (it appears as a participant tile)',
      tag: TAG,
      access: 'meetingChair',
      params: idParams,
      body: shareBody,
      responses: { 204: { description: 'shared' } },
      handle: async ({ params, body, principal }) => {
        getMeeting(store, params.id);
        getFeed(body.feedId);
        await apiCall(() => feeds().share(body.feedId, params.id, principalName(principal)));
        return noContent;
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/meetings/{id}/feeds/{feedId}',
      summary: 'Take a feed out of a meeting',
      tag: TAG,
      access: 'meetingChair',
      params: shareParams,
      responses: { 204: { description: 'taken out' } },
      handle: async ({ params, principal }) => {
        await apiCall(async () => feeds().unshare(params.feedId, params.id, principalName(principal)));
        return noContent;
      },
    }),
  ];
}

/** Runs a call that may refuse with a ProtocolError, answering with the matching API error. */
export async function apiCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    const code = error.code === 'NOT_FOUND' ? 'NOT_FOUND' : error.code === 'FORBIDDEN' ? 'FORBIDDEN' : error.code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'CONFLICT';
    throw new ApiError(code, error.message);
  }
}
