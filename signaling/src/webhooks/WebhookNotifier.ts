// Posts meeting, participant, feed (ingress) and recording (egress) events to the configured URLs
// in LiveKit's webhook format, so that LiveKit's WebhookReceiver (any server SDK) verifies and
// parses them. Every event × URL is one row in the delivery log; each URL gets its events one at a
// time, in order.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { WebhookDelivery, WebhookDeliveryRepository } from '../store/types.js';
import {
  buildEgressMessage,
  buildIngressMessage,
  buildWebhookMessage,
  type RoomEventName,
  type WebhookEgress,
  type WebhookIngress,
  type WebhookMessage,
  type WebhookParticipant,
  type WebhookRoom,
  type WebhookTrack,
} from './events.js';
import { signWebhook } from './signature.js';

export type { WebhookEgress, WebhookFile, WebhookIngress, WebhookParticipant, WebhookRoom, WebhookTrack } from './events.js';

export interface WebhookNotifierOptions {
  urls: string[];
  auth: AuthConfig;
  /** Attempts per delivery before it is marked failed (default 6). */
  maxAttempts?: number;
  /** Wait before the first retry (default 1 s); it doubles per retry up to 60 s, with jitter. */
  initialBackoffMs?: number;
  /** How long one attempt may take (default 5 s). */
  timeoutMs?: number;
}

const MAX_BACKOFF_MS = 60_000;

interface QueuedDelivery {
  deliveryId: number;
  message: WebhookMessage;
}

interface UrlQueue {
  url: string;
  /** The head is the delivery in flight (or waiting to retry). */
  items: QueuedDelivery[];
  running?: Promise<void>;
}

interface AttemptResult {
  statusCode: number | null;
  error: string | null;
}

/**
 * Parses `WEBHOOK_URLS`: http(s) URLs separated by commas and/or whitespace. Throws an Error
 * naming the first entry that is not one.
 */
export function parseWebhookUrls(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  for (const entry of entries) {
    let protocol: string | undefined;
    try {
      protocol = new URL(entry).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new Error(`WEBHOOK_URLS entry "${entry}" is invalid: expected an http:// or https:// URL`);
    }
  }
  return entries;
}

/**
 * The event methods return at once; sending happens in the background. A URL that keeps failing
 * delays only its own later events. `close()` stops sending and leaves unsent rows 'pending'.
 */
export class WebhookNotifier {
  readonly #auth: AuthConfig;
  readonly #maxAttempts: number;
  readonly #initialBackoffMs: number;
  readonly #timeoutMs: number;
  readonly #queues: UrlQueue[];
  readonly #shutdown = new AbortController();

  constructor(
    options: WebhookNotifierOptions,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly logger: Logger,
  ) {
    this.#auth = options.auth;
    this.#maxAttempts = options.maxAttempts ?? 6;
    this.#initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#queues = [...new Set(options.urls)].map((url) => ({ url, items: [] }));
  }

  roomStarted(room: WebhookRoom): void {
    this.#notify('room_started', room);
  }

  roomFinished(room: WebhookRoom): void {
    this.#notify('room_finished', room);
  }

  participantJoined(room: WebhookRoom, participant: WebhookParticipant): void {
    this.#notify('participant_joined', room, participant);
  }

  participantLeft(room: WebhookRoom, participant: WebhookParticipant): void {
    this.#notify('participant_left', room, participant);
  }

  trackPublished(room: WebhookRoom, participant: WebhookParticipant, track: WebhookTrack): void {
    this.#notify('track_published', room, participant, track);
  }

  trackUnpublished(room: WebhookRoom, participant: WebhookParticipant, track: WebhookTrack): void {
    this.#notify('track_unpublished', room, participant, track);
  }

  ingressStarted(ingress: WebhookIngress): void {
    this.#enqueue(() => buildIngressMessage('ingress_started', ingress));
  }

  ingressEnded(ingress: WebhookIngress): void {
    this.#enqueue(() => buildIngressMessage('ingress_ended', ingress));
  }

  egressStarted(egress: WebhookEgress): void {
    this.#enqueue(() => buildEgressMessage('egress_started', egress));
  }

  egressEnded(egress: WebhookEgress): void {
    this.#enqueue(() => buildEgressMessage('egress_ended', egress));
  }

  /** Resolves once every queued event has been delivered or has failed (or close() stopped it). */
  async drain(): Promise<void> {
    for (let running = this.#running(); running.length > 0; running = this.#running()) {
      await Promise.all(running);
    }
  }

  /** Aborts requests in flight and retry waits; what was not sent stays 'pending' in the log. */
  async close(): Promise<void> {
    if (this.#shutdown.signal.aborted) return;
    this.#shutdown.abort();
    await this.drain();
    const unsent = this.#queues.reduce((sum, queue) => sum + queue.items.length, 0);
    if (unsent > 0) this.logger.warn({ unsent }, 'webhooks stopped with deliveries still pending');
  }

  #running(): Promise<void>[] {
    return this.#queues.flatMap((queue) => (queue.running ? [queue.running] : []));
  }

  #notify(event: RoomEventName, room: WebhookRoom, participant?: WebhookParticipant, track?: WebhookTrack): void {
    this.#enqueue(() => buildWebhookMessage(event, room, participant, track));
  }

  /** Builds the message only when it will be sent. */
  #enqueue(build: () => WebhookMessage): void {
    if (this.#queues.length === 0 || this.#shutdown.signal.aborted) return;
    const message = build();
    const { event } = message;
    const now = Date.now();
    for (const queue of this.#queues) {
      let delivery: WebhookDelivery;
      try {
        delivery = this.deliveries.create({
          eventId: message.id,
          event,
          url: queue.url,
          attempts: 0,
          status: 'pending',
          lastStatusCode: null,
          lastError: null,
          createdAt: now,
          updatedAt: now,
        });
      } catch (error) {
        this.logger.error({ err: error, eventId: message.id, event, url: queue.url }, 'webhook not sent: could not record the delivery');
        continue;
      }
      queue.items.push({ deliveryId: delivery.id, message });
      queue.running ??= this.#run(queue);
    }
  }

  /** Sends the queue's deliveries one after another until it is empty or the notifier closes. */
  async #run(queue: UrlQueue): Promise<void> {
    for (let next = queue.items[0]; next && !this.#shutdown.signal.aborted; next = queue.items[0]) {
      if (await this.#deliver(queue.url, next)) queue.items.shift();
    }
    // Cleared in the same synchronous step as the empty check, so #notify never finds a queue
    // with items and a worker that has already stopped.
    queue.running = undefined;
  }

  /** Tries until delivered or failed; false if close() interrupted it (the row stays pending). */
  async #deliver(url: string, { deliveryId, message }: QueuedDelivery): Promise<boolean> {
    const context = { eventId: message.id, event: message.event, url };
    for (let attempts = 1; ; attempts++) {
      const result = await this.#post(url, message.body);
      // An answer that raced close() is still recorded; only an interrupted request is not.
      if (result.statusCode === null && this.#shutdown.signal.aborted) return false;
      const status = result.error === null ? 'delivered' : isPermanent(result.statusCode) || attempts >= this.#maxAttempts ? 'failed' : 'pending';
      this.#record(deliveryId, { attempts, status, lastStatusCode: result.statusCode, lastError: result.error, updatedAt: Date.now() });
      if (status === 'delivered') {
        this.logger.debug({ ...context, attempts }, 'webhook delivered');
        return true;
      }
      if (status === 'failed') {
        this.logger.error({ ...context, attempts, statusCode: result.statusCode, error: result.error }, 'webhook failed: giving up');
        return true;
      }
      const delayMs = this.#backoff(attempts);
      this.logger.warn({ ...context, attempts, statusCode: result.statusCode, error: result.error, retryInMs: Math.round(delayMs) }, 'webhook attempt failed');
      await sleep(delayMs, undefined, { signal: this.#shutdown.signal }).catch(() => undefined);
      if (this.#shutdown.signal.aborted) return false;
    }
  }

  async #post(url: string, body: string): Promise<AttemptResult> {
    // One controller per attempt rather than AbortSignal.any(), which leaks on a long-lived signal
    // in Node 20 (nodejs/node#54614).
    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort();
    }, this.#timeoutMs);
    const stop = () => attempt.abort();
    this.#shutdown.signal.addEventListener('abort', stop, { once: true });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/webhook+json', Authorization: await signWebhook(this.#auth, body) },
        body,
        redirect: 'manual',
        signal: attempt.signal,
      });
      await response.body?.cancel();
      const error = response.ok ? null : `HTTP ${response.status} ${response.statusText}`.trim();
      return { statusCode: response.status, error };
    } catch (error) {
      return { statusCode: null, error: timedOut ? `no response within ${this.#timeoutMs} ms` : describe(error) };
    } finally {
      clearTimeout(timer);
      this.#shutdown.signal.removeEventListener('abort', stop);
    }
  }

  #backoff(attempts: number): number {
    const ceiling = Math.min(this.#initialBackoffMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  #record(deliveryId: number, changes: Parameters<WebhookDeliveryRepository['update']>[1]): void {
    try {
      this.deliveries.update(deliveryId, changes);
    } catch (error) {
      this.logger.error({ err: error, deliveryId }, 'could not update the webhook delivery log');
    }
  }
}

/** fetch reports network faults as "fetch failed" with the real one (ECONNREFUSED, …) as cause. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

/** Redirects and client errors (except timeout and rate limiting) will not change on a retry. */
function isPermanent(statusCode: number | null): boolean {
  return statusCode !== null && statusCode < 500 && statusCode !== 408 && statusCode !== 429;
}
