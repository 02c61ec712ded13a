import { randomInt } from 'node:crypto';
import { dtmfEvent, encodeTelephoneEvent, type NegotiatedMedia } from '../sdp/index.js';
import type { MediaPorts } from './MediaPorts.js';
import { rtpPacket } from './rtp.js';

/** How long each key sounds, and the pause after it (ms). */
const TONE_MS = 160;
const PAUSE_MS = 80;
/** Updates of a running event, one per this (ms), and how often its end is sent (RFC 4733 §2.5.1.4). */
const UPDATE_MS = 20;
const END_REPEATS = 3;
const VOLUME_DBM0 = 10;

/**
 * RFC 4733 DTMF to the peer from the leg's audio port: telephone-event packets with the negotiated
 * payload type, in a stream of their own (own SSRC, sequence numbers and timestamps) beside the
 * mixed audio, which keeps the mixer free of it. Keys are sent one after the other.
 */
export class DtmfSender {
  private readonly ssrc = randomInt(1, 2 ** 31);
  private sequence = randomInt(0, 0x8000);
  private timestamp = randomInt(0, 2 ** 31);
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly audio: NegotiatedMedia,
    private readonly ports: MediaPorts,
  ) {}

  /** Sends `digits` (0-9, *, #, A-D); resolves when the last one has been sent. */
  send(digits: string): Promise<void> {
    const telephoneEvent = this.audio.telephoneEvent;
    if (!telephoneEvent) return Promise.reject(new Error('the peer did not negotiate telephone-event'));
    const events = [...digits].map(dtmfEvent);
    const unsupported = events.find((event) => !telephoneEvent.events.includes(event));
    if (unsupported !== undefined) return Promise.reject(new RangeError(`the peer does not take DTMF event ${unsupported}`));
    const sending = this.queue.then(async () => {
      for (const event of events) {
        if (this.closed) return;
        await this.sendEvent(event, telephoneEvent.payloadType, telephoneEvent.clockRate);
        await sleep(PAUSE_MS);
      }
    });
    this.queue = sending.catch(() => undefined);
    return sending;
  }

  close(): void {
    this.closed = true;
  }

  private async sendEvent(event: number, payloadType: number, clockRate: number): Promise<void> {
    const samplesPerMs = clockRate / 1000;
    this.timestamp = (this.timestamp + Math.round((TONE_MS + PAUSE_MS) * samplesPerMs)) >>> 0;
    const packet = (marker: boolean, end: boolean, elapsedMs: number): Buffer =>
      rtpPacket(
        { payloadType, marker, sequence: this.sequence++, timestamp: this.timestamp, ssrc: this.ssrc },
        encodeTelephoneEvent({ event, end, volume: VOLUME_DBM0, duration: Math.round(elapsedMs * samplesPerMs) }),
      );
    for (let elapsed = 0; elapsed < TONE_MS; elapsed += UPDATE_MS) {
      if (this.closed) return;
      this.ports.sendRtp('audio', packet(elapsed === 0, false, elapsed + UPDATE_MS));
      await sleep(UPDATE_MS);
    }
    for (let repeat = 0; repeat < END_REPEATS; repeat++) this.ports.sendRtp('audio', packet(false, true, TONE_MS));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
