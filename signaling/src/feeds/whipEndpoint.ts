// The WHIP endpoint (RFC 9725) of WHIP feeds: POST /whip/<feedId> with the feed's key as bearer
// token and an SDP offer creates the publication (201, Location, ETag, the answer); DELETE on
// the Location ends it. Browser publishers on other origins are allowed (CORS).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_OFFER_BYTES, WhipOfferError, WhipPublication, type ListenIp } from '@cityconf/sfu';
import { sameSecret } from '../api/authorize.js';
import type { Logger } from '../log.js';
import type { FeedManager } from './FeedManager.js';

export interface WhipEndpointDeps {
  feeds: FeedManager;
  listenIps: ListenIp[];
  logger: Logger;
  initialAvailableOutgoingBitrate?: number;
  maxIncomingBitrate?: number;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, DELETE, PATCH, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, if-match',
  'access-control-expose-headers': 'location, etag, link',
};

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...CORS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${message}\n`);
}

async function readOffer(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_OFFER_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createWhipHandler(deps: WhipEndpointDeps): (req: IncomingMessage, res: ServerResponse) => void {
  /** Session id → its publication and the feed it belongs to. */
  const sessions = new Map<string, { feedId: string; publication: WhipPublication }>();

  async function post(req: IncomingMessage, res: ServerResponse, feedId: string): Promise<void> {
    const key = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const runtime = key ? deps.feeds.whipFeedById(feedId) : undefined;
    if (!key || !runtime || !runtime.record.streamKey || !sameSecret(key, runtime.record.streamKey)) {
      reply(res, 401, 'unknown feed or wrong key: send "Authorization: Bearer <the feed’s WHIP token>" issued by the operator', {
        'www-authenticate': 'Bearer',
      });
      return;
    }
    if (!/^application\/sdp\b/i.test(req.headers['content-type'] ?? '')) {
      reply(res, 415, 'the offer must be sent as Content-Type: application/sdp');
      return;
    }
    const offer = await readOffer(req);
    if (offer === undefined) {
      reply(res, 413, `the offer is larger than ${MAX_OFFER_BYTES} bytes`);
      return;
    }
    const sessionId = randomUUID();
    let publication: WhipPublication;
    try {
      publication = await WhipPublication.create({
        router: await runtime.publicationRouter(),
        offer,
        listenIps: deps.listenIps,
        participantId: runtime.participantId,
        logger: deps.logger,
        initialAvailableOutgoingBitrate: deps.initialAvailableOutgoingBitrate,
        maxIncomingBitrate: deps.maxIncomingBitrate,
      });
    } catch (error) {
      if (error instanceof WhipOfferError) {
        reply(res, error.status, error.message);
        return;
      }
      throw error;
    }
    sessions.set(sessionId, { feedId, publication });
    publication.once('closed', () => sessions.delete(sessionId));
    await runtime.acceptPublication(publication);
    res.writeHead(201, {
      ...CORS,
      'content-type': 'application/sdp',
      'cache-control': 'no-store',
      location: `/whip/${encodeURIComponent(feedId)}/${sessionId}`,
      etag: publication.etag,
    });
    res.end(publication.answer);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, , feedId, sessionId, extra] = url.pathname.split('/').map((part) => decodeURIComponent(part));
    if (!feedId || extra !== undefined) {
      reply(res, 404, 'WHIP endpoints are /whip/<feedId> (POST the offer) and the Location it answers with');
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'accept-post': 'application/sdp' });
      res.end();
      return;
    }
    if (sessionId === undefined) {
      if (req.method !== 'POST') {
        reply(res, 405, 'POST an SDP offer to this endpoint', { allow: 'POST, OPTIONS' });
        return;
      }
      await post(req, res, feedId);
      return;
    }
    const session = sessions.get(sessionId);
    if (!session || session.feedId !== feedId) {
      reply(res, 404, 'no such WHIP session (it ended, or the server restarted): POST a new offer');
      return;
    }
    if (req.method === 'DELETE') {
      session.publication.close();
      reply(res, 200, 'ended');
      return;
    }
    if (req.method === 'PATCH') {
      // ICE-lite with every candidate in the answer: trickled candidates and ICE restarts are not needed.
      reply(res, 405, 'this endpoint does not take trickle ICE or ICE restarts: POST a new offer to reconnect', { allow: 'DELETE, OPTIONS' });
      return;
    }
    reply(res, 405, 'use DELETE to end the session', { allow: 'DELETE, PATCH, OPTIONS' });
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      deps.logger.error({ err: error, url: req.url }, 'whip request failed');
      if (res.headersSent) res.destroy();
      else reply(res, 500, 'the server failed to handle the WHIP request: try again');
    });
  };
}
