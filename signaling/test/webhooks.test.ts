// Webhooks reach real local HTTP receivers in LiveKit's format: LiveKit's own WebhookReceiver
// verifies and parses them, and the delivery log records every attempt.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingLibrary, type RecordingManifest } from '@cityconf/recordings';
import { EgressStatus, TrackSource, TrackType, WebhookReceiver } from 'livekit-server-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import type { WebhookDelivery, WebhookDeliveryRepository } from '../src/store/types.js';
import { recordingWebhooks } from '../src/webhooks/recordingWebhooks.js';
import {
  parseWebhookUrls,
  WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookParticipant,
  type WebhookRoom,
  type WebhookTrack,
} from '../src/webhooks/WebhookNotifier.js';

const AUTH: AuthConfig = { apiKey: 'hookkey', apiSecret: 'a-webhook-test-secret-of-32-chars!' };
const ROOM: WebhookRoom = { sid: 'RM_plenary', name: 'city-plenary', numParticipants: 2, creationTime: 1_750_000_000_123 };
const UNIT: WebhookParticipant = {
  sid: 'PA_county_a',
  identity: 'county-a',
  name: '甲县人民政府',
  attributes: { unit: '甲县/甲县人民政府' },
  joinedAt: 1_750_000_001_456,
};
const SCREEN: WebhookTrack = { sid: 'TR_screen', type: 'video', source: 'screen', name: 'slides' };

/** Our own seam: the SQLite store implements the same interface. */
class MemoryDeliveries implements WebhookDeliveryRepository {
  readonly rows: WebhookDelivery[] = [];

  create(delivery: Omit<WebhookDelivery, 'id'>): WebhookDelivery {
    const row = { id: this.rows.length + 1, ...delivery };
    this.rows.push(row);
    return { ...row };
  }

  update(id: number, changes: Partial<WebhookDelivery>): void {
    Object.assign(this.rows[id - 1]!, changes);
  }

  list(limit: number): WebhookDelivery[] {
    return this.rows.slice().reverse().slice(0, limit);
  }
}

interface Received {
  body: string;
  authorization: string | undefined;
  contentType: string | undefined;
  at: number;
}

/** Answers with the status `respond` returns for the n-th request (0-based). */
type Responder = (request: Received, index: number) => number | Promise<number>;

const servers: Server[] = [];
const notifiers: WebhookNotifier[] = [];

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((notifier) => notifier.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/livekit-webhook`;
}

async function startReceiver(respond: Responder = () => 200): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const entry: Received = {
      body: Buffer.concat(chunks).toString('utf8'),
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      at: performance.now(),
    };
    received.push(entry);
    response.statusCode = await respond(entry, received.length - 1);
    response.end();
  });
  return { url: await listen(server), received };
}

/** A URL nothing listens on (connection refused). */
async function closedUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

function notifier(options: Partial<WebhookNotifierOptions> & { urls: string[] }, deliveries = new MemoryDeliveries()) {
  const created = new WebhookNotifier({ auth: AUTH, initialBackoffMs: 10, ...options }, deliveries, createLogger('silent'));
  notifiers.push(created);
  return created;
}

async function parse(request: Received, auth = AUTH) {
  return new WebhookReceiver(auth.apiKey, auth.apiSecret).receive(request.body, request.authorization);
}

/** The event names the receiver answered 2xx for, in arrival order. */
async function acceptedEvents(received: Received[], accepted: (index: number) => boolean) {
  const events = await Promise.all(received.map((request) => parse(request)));
  return events.filter((_, index) => accepted(index)).map((event) => `${event.event}:${event.participant?.identity ?? ''}`);
}

describe('webhooks', () => {
  it('sends every event type in the LiveKit format, verified and parsed by WebhookReceiver', async () => {
    const { url, received } = await startReceiver();
    const deliveries = new MemoryDeliveries();
    const hooks = notifier({ urls: [url] }, deliveries);

    hooks.roomStarted(ROOM);
    hooks.participantJoined(ROOM, UNIT);
    hooks.trackPublished(ROOM, UNIT, SCREEN);
    hooks.trackUnpublished(ROOM, UNIT, { sid: 'TR_mic', type: 'audio', source: 'microphone', muted: true });
    hooks.participantLeft(ROOM, UNIT);
    hooks.roomFinished({ ...ROOM, numParticipants: 0 });
    await hooks.drain();

    expect(received.map((request) => request.contentType)).toEqual(Array(6).fill('application/webhook+json'));
    const events = await Promise.all(received.map((request) => parse(request)));
    expect(events.map((event) => event.event)).toEqual([
      'room_started',
      'participant_joined',
      'track_published',
      'track_unpublished',
      'participant_left',
      'room_finished',
    ]);
    for (const event of events) {
      expect(event.id).toMatch(/^EV_[0-9A-Za-z]{12}$/);
      expect(event.room).toMatchObject({ sid: 'RM_plenary', name: 'city-plenary', creationTime: 1_750_000_000n });
      expect(Number(event.createdAt)).toBeCloseTo(Date.now() / 1000, -1);
    }
    expect(new Set(events.map((event) => event.id)).size).toBe(6);
    expect(events[0]!.participant).toBeUndefined();
    expect(events[1]!.participant).toMatchObject({
      sid: 'PA_county_a',
      identity: 'county-a',
      name: '甲县人民政府',
      attributes: { unit: '甲县/甲县人民政府' },
      joinedAt: 1_750_000_001n,
      joinedAtMs: 1_750_000_001_456n,
    });
    expect(events[2]!.track).toMatchObject({ sid: 'TR_screen', type: TrackType.VIDEO, source: TrackSource.SCREEN_SHARE, name: 'slides' });
    expect(events[3]!.track).toMatchObject({ type: TrackType.AUDIO, source: TrackSource.MICROPHONE, muted: true });
    expect(events[4]!.participant?.identity).toBe('county-a');
    expect(events[5]!.room?.numParticipants).toBe(0);
    // Field and enum names are LiveKit's protobuf JSON names.
    expect(JSON.parse(received[2]!.body)).toMatchObject({ event: 'track_published', track: { type: 'VIDEO', source: 'SCREEN_SHARE' } });

    expect(deliveries.rows).toHaveLength(6);
    for (const [index, row] of deliveries.rows.entries()) {
      expect(row).toMatchObject({ eventId: events[index]!.id, event: events[index]!.event, url, status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null });
    }
  });

  it('signs with the API secret: another secret or a changed body fails verification', async () => {
    const { url, received } = await startReceiver();
    const hooks = notifier({ urls: [url] });
    hooks.participantJoined(ROOM, UNIT);
    await hooks.drain();

    const [request] = received;
    await expect(parse(request!)).resolves.toMatchObject({ event: 'participant_joined' });
    await expect(parse(request!, { ...AUTH, apiSecret: 'another-secret-of-the-same-length!!' })).rejects.toThrow();
    await expect(parse(request!, { ...AUTH, apiKey: 'otherkey' })).rejects.toThrow();
    const tampered = request!.body.replace('county-a', 'county-b');
    await expect(parse({ ...request!, body: tampered })).rejects.toThrow('sha256 checksum of body does not match');
  });

  it('retries 5xx with a growing backoff until delivered', async () => {
    const { url, received } = await startReceiver((_, index) => (index < 2 ? 500 : 200));
    const deliveries = new MemoryDeliveries();
    const hooks = notifier({ urls: [url], initialBackoffMs: 40 }, deliveries);
    hooks.roomStarted(ROOM);
    await hooks.drain();

    expect(received).toHaveLength(3);
    expect(deliveries.rows[0]).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null });
    // Jitter keeps each wait within [½, 1] × 40 ms · 2^(retry - 1).
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(19);
    expect(received[2]!.at - received[1]!.at).toBeGreaterThanOrEqual(39);
  });

  it('fails a 4xx or a redirect at once, but retries 408 and 429', async () => {
    const gone = await startReceiver(() => 404);
    const moved = await startReceiver(() => 302);
    const busy = await startReceiver((_, index) => [429, 408, 204][index] ?? 500);
    const deliveries = new MemoryDeliveries();
    const hooks = notifier({ urls: [gone.url, moved.url, busy.url] }, deliveries);
    hooks.roomStarted(ROOM);
    await hooks.drain();

    expect(gone.received).toHaveLength(1);
    expect(moved.received).toHaveLength(1);
    expect(deliveries.rows).toMatchObject([
      { url: gone.url, status: 'failed', attempts: 1, lastStatusCode: 404, lastError: 'HTTP 404 Not Found' },
      { url: moved.url, status: 'failed', attempts: 1, lastStatusCode: 302 },
      { url: busy.url, status: 'delivered', attempts: 3, lastStatusCode: 204 },
    ]);
  });

  it('gives up after maxAttempts when nothing listens', async () => {
    const deliveries = new MemoryDeliveries();
    const hooks = notifier({ urls: [await closedUrl()], maxAttempts: 3 }, deliveries);
    hooks.roomFinished(ROOM);
    await hooks.drain();

    expect(deliveries.rows).toMatchObject([{ status: 'failed', attempts: 3, lastStatusCode: null, lastError: expect.stringContaining('ECONNREFUSED') }]);
  });

  it('times out a receiver that does not answer', async () => {
    const { url } = await startReceiver(() => new Promise<number>(() => {}));
    const deliveries = new MemoryDeliveries();
    const hooks = notifier({ urls: [url], maxAttempts: 2, timeoutMs: 50 }, deliveries);
    hooks.roomStarted(ROOM);
    await hooks.drain();

    expect(deliveries.rows).toMatchObject([{ status: 'failed', attempts: 2, lastStatusCode: null, lastError: 'no response within 50 ms' }]);
  });

  it('keeps the order of events per URL, retries included', async () => {
    // Every event's first attempt fails; the next waits for its retry to succeed.
    const { url, received } = await startReceiver((_, index) => (index % 2 === 0 ? 503 : 200));
    const hooks = notifier({ urls: [url] });
    const units = ['a', 'b', 'c', 'd'].map((id) => ({ ...UNIT, sid: `PA_${id}`, identity: `county-${id}` }));
    for (const unit of units) hooks.participantJoined(ROOM, unit);
    hooks.participantLeft(ROOM, units[0]!);
    await hooks.drain();

    expect(await acceptedEvents(received, (index) => index % 2 === 1)).toEqual([
      'participant_joined:county-a',
      'participant_joined:county-b',
      'participant_joined:county-c',
      'participant_joined:county-d',
      'participant_left:county-a',
    ]);
  });

  it('a slow URL does not hold up another', async () => {
    let release = () => {};
    const released = new Promise<number>((resolve) => (release = () => resolve(200)));
    const slow = await startReceiver(() => released);
    const fast = await startReceiver();
    const hooks = notifier({ urls: [slow.url, fast.url], timeoutMs: 10_000 });
    hooks.roomStarted(ROOM);
    hooks.participantJoined(ROOM, UNIT);
    hooks.participantLeft(ROOM, UNIT);

    await vi.waitFor(() => expect(fast.received).toHaveLength(3));
    expect(slow.received).toHaveLength(1);
    release();
    await hooks.drain();
    expect(await acceptedEvents(slow.received, () => true)).toEqual(['room_started:', 'participant_joined:county-a', 'participant_left:county-a']);
  });

  it('close() returns promptly, leaving unsent deliveries pending', async () => {
    const failing = await startReceiver(() => 500);
    const hanging = await startReceiver(() => new Promise<number>(() => {}));
    const deliveries = new MemoryDeliveries();
    const hooks = notifier({ urls: [failing.url, hanging.url], initialBackoffMs: 30_000, timeoutMs: 30_000 }, deliveries);
    hooks.roomStarted(ROOM);
    hooks.roomFinished(ROOM);
    await vi.waitFor(() => expect(deliveries.rows[0]!.attempts).toBe(1));
    await vi.waitFor(() => expect(hanging.received).toHaveLength(1));

    const started = performance.now();
    await hooks.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(deliveries.rows.map((row) => row.status)).toEqual(['pending', 'pending', 'pending', 'pending']);

    hooks.participantJoined(ROOM, UNIT);
    expect(deliveries.rows).toHaveLength(4);
  });

  it('ends a recording stopped for disk space as EGRESS_LIMIT_REACHED and one a crash interrupted as EGRESS_ABORTED', async () => {
    const { url, received } = await startReceiver();
    const hooks = notifier({ urls: [url] });
    // No recordings directory: the events go out without file sizes.
    const library = new RecordingLibrary({ root: join(tmpdir(), 'cityconf-no-recordings'), logger: createLogger('silent') });
    const recordings = recordingWebhooks(hooks, library);
    const manifest = (recordingId: string, status: RecordingManifest['status'], error?: string): RecordingManifest => ({
      recordingId,
      meetingId: 'city-plenary',
      status,
      error,
      startedAt: '2025-06-15T08:00:00.000Z',
      endedAt: '2025-06-15T08:30:00.000Z',
      tracks: [{ id: 't1', file: 't001.webm', kind: 'audio', codec: 'opus', participantId: 'p1', name: '甲县', source: 'microphone', startedAt: '2025-06-15T08:00:01.000Z', endedAt: '2025-06-15T08:29:59.000Z' }],
      timeline: [],
    });
    recordings.recordingEnded(manifest('full', 'stopped-disk-full', 'the recordings disk is nearly full'));
    await vi.waitFor(() => expect(received).toHaveLength(1));
    recordings.recordingEnded(manifest('crashed', 'interrupted', 'the server stopped while recording'));
    await vi.waitFor(() => expect(received).toHaveLength(2));

    const [full, crashed] = (await Promise.all(received.map((request) => parse(request)))).map((event) => event.egressInfo!);
    expect(full).toMatchObject({ egressId: 'full', roomName: 'city-plenary', status: EgressStatus.EGRESS_LIMIT_REACHED, error: 'the recordings disk is nearly full' });
    expect(full!.endedAt - full!.startedAt).toBe(1_800_000_000_000n);
    expect(full!.fileResults).toMatchObject([{ filename: 't001.webm', size: 0n, duration: 1_798_000_000_000n }]);
    expect(crashed).toMatchObject({ egressId: 'crashed', status: EgressStatus.EGRESS_ABORTED, error: 'the server stopped while recording' });
  });

  it('records nothing when no URL is configured', async () => {
    const deliveries = new MemoryDeliveries();
    const hooks = notifier({ urls: [] }, deliveries);
    hooks.roomStarted(ROOM);
    hooks.trackPublished(ROOM, UNIT, SCREEN);
    await hooks.drain();
    expect(deliveries.rows).toEqual([]);
  });
});

describe('parseWebhookUrls', () => {
  it('splits on commas and whitespace', () => {
    expect(parseWebhookUrls(undefined)).toEqual([]);
    expect(parseWebhookUrls(' ')).toEqual([]);
    expect(parseWebhookUrls('https://a.example/hook, http://10.0.0.5:8080/lk\nhttps://b.example/x')).toEqual([
      'https://a.example/hook',
      'http://10.0.0.5:8080/lk',
      'https://b.example/x',
    ]);
  });

  it('names the entry that is not an http(s) URL', () => {
    expect(() => parseWebhookUrls('https://a.example/hook,ftp://b.example')).toThrow('"ftp://b.example"');
    expect(() => parseWebhookUrls('a.example/hook')).toThrow('WEBHOOK_URLS entry "a.example/hook" is invalid');
  });
});
