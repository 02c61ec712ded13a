// The SIP legs of every meeting as the chair console and the API see them: state, codecs, bit
// rates and loss. Dial-in legs and dialled ones (with their redials) are entries here from the first
// INVITE to a while after they end.
import { EventEmitter } from 'node:events';
import type { MediaPortsCounters, Negotiation } from '@cityconf/cascade';
import type { SipLegState, SipLegStatus } from '../protocol.js';
import type { SipLegControlEvents } from './SipLegControl.js';

/** How often bit rates and loss are sampled while a leg is connected (ms). */
export const SAMPLE_INTERVAL_MS = 2000;
/** How long an ended leg stays listed (ms). */
const ENDED_VISIBLE_MS = 60_000;
/** How long a failed leg stays listed unless hung up (ms). */
const FAILED_VISIBLE_MS = 10 * 60_000;

export type SipLegInit = Pick<SipLegStatus, 'id' | 'meetingId' | 'direction' | 'kind' | 'name' | 'uri' | 'targetId' | 'unitId'>;

/** One leg's status, kept current by whoever runs the leg (SipGateway, the dialler). */
export class SipLegEntry {
  readonly status: SipLegStatus;
  /** Where the leg's RTP totals come from while connected. */
  private counters?: () => MediaPortsCounters;
  private last?: { at: number; totals: MediaPortsCounters };

  constructor(init: SipLegInit, now: number) {
    this.status = {
      ...init,
      participantId: null,
      state: 'calling',
      since: now,
      connectedSince: null,
      error: null,
      attempt: 0,
      nextAttemptAt: null,
      audio: null,
      video: null,
      rxKbps: 0,
      txKbps: 0,
      lossPct: 0,
    };
  }

  /** The leg is up: its participant, codecs and counters. */
  connected(participantId: string, negotiation: Negotiation, counters: () => MediaPortsCounters, now: number): void {
    const { audio, video } = negotiation;
    Object.assign(this.status, {
      participantId,
      state: 'connected',
      since: now,
      connectedSince: now,
      error: null,
      nextAttemptAt: null,
      audio: audio ? { codec: audio.codec.name, clockRate: audio.codec.clockRate, srtp: !!audio.srtp } : null,
      video: video ? { codec: video.codec.name, profileLevelId: video.codec.parameters['profile-level-id'] ?? null, srtp: !!video.srtp } : null,
    } satisfies Partial<SipLegStatus>);
    this.counters = counters;
    this.last = { at: now, totals: counters() };
  }

  /** Any other state: the connection's figures go. */
  moved(state: Exclude<SipLegState, 'connected'>, now: number, changes: Partial<Pick<SipLegStatus, 'error' | 'attempt' | 'nextAttemptAt'>> = {}): void {
    Object.assign(this.status, { participantId: null, connectedSince: null, rxKbps: 0, txKbps: 0, lossPct: 0, nextAttemptAt: null }, changes, { state, since: now });
    this.counters = undefined;
    this.last = undefined;
  }

  /** Bit rates and loss since the last sample. */
  sample(now: number): void {
    if (!this.counters || !this.last) return;
    const totals = this.counters();
    const seconds = (now - this.last.at) / 1000;
    if (seconds <= 0) return;
    const previous = this.last.totals;
    const expected = totals.rxExpected - previous.rxExpected;
    const received = totals.rxPackets - previous.rxPackets;
    this.status.rxKbps = Math.round(((totals.rxBytes - previous.rxBytes) * 8) / seconds / 1000);
    this.status.txKbps = Math.round(((totals.txBytes - previous.txBytes) * 8) / seconds / 1000);
    this.status.lossPct = expected > 0 ? Math.max(0, Math.round(((expected - received) / expected) * 1000) / 10) : 0;
    this.last = { at: now, totals };
  }
}

export class SipLegBook extends EventEmitter<SipLegControlEvents> {
  private readonly meetings = new Map<string, Map<string, SipLegEntry>>();
  private sampler?: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  add(init: SipLegInit): SipLegEntry {
    const entry = new SipLegEntry(init, this.now());
    let legs = this.meetings.get(init.meetingId);
    if (!legs) this.meetings.set(init.meetingId, (legs = new Map()));
    legs.set(init.id, entry);
    this.changed(entry);
    return entry;
  }

  get(meetingId: string, legId: string): SipLegEntry | undefined {
    return this.meetings.get(meetingId)?.get(legId);
  }

  /** Newest first; ended and failed legs drop out after a while. */
  list(meetingId: string): SipLegStatus[] {
    const legs = this.meetings.get(meetingId);
    if (!legs) return [];
    const now = this.now();
    for (const [id, entry] of legs) {
      const { state, since } = entry.status;
      const stale = (state === 'ended' && now - since > ENDED_VISIBLE_MS) || (state === 'failed' && now - since > FAILED_VISIBLE_MS);
      if (stale) legs.delete(id);
    }
    if (legs.size === 0) this.meetings.delete(meetingId);
    return [...legs.values()].map((entry) => ({ ...entry.status })).reverse();
  }

  /** Entries still calling, connected or redialing (for 'only one leg per target' checks). */
  active(meetingId: string): SipLegEntry[] {
    return [...(this.meetings.get(meetingId)?.values() ?? [])].filter(({ status }) => ['calling', 'connected', 'redialing'].includes(status.state));
  }

  /** Forgets the entry at once (a failed or ended leg the chair clears). */
  remove(entry: SipLegEntry): void {
    const legs = this.meetings.get(entry.status.meetingId);
    if (legs?.delete(entry.status.id)) this.emit('legs', entry.status.meetingId);
  }

  /** Tell the listeners the entry's state moved (and sample while anything is connected). */
  changed(entry: SipLegEntry): void {
    this.emit('legs', entry.status.meetingId);
    this.updateSampler();
  }

  close(): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
  }

  private updateSampler(): void {
    const anyConnected = [...this.meetings.values()].some((legs) => [...legs.values()].some(({ status }) => status.state === 'connected'));
    if (anyConnected && !this.sampler) {
      this.sampler = setInterval(() => {
        const now = this.now();
        for (const legs of this.meetings.values()) for (const entry of legs.values()) entry.sample(now);
      }, SAMPLE_INTERVAL_MS);
      this.sampler.unref();
    } else if (!anyConnected && this.sampler) {
      this.close();
    }
  }
}
