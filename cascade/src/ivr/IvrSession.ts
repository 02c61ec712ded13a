// The IVR of a dial-in call that named no meeting: "请输入会议号" — the caller types the meeting
// number (and the meeting's PIN when it has one) as DTMF ending in '#', and is let in or asked again.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { MediaKind, MediaPorts } from '../media/MediaPorts.js';
import { PromptPlayer, promptFile, type PromptName } from '../media/PromptPlayer.js';
import { payloadOffset, payloadTypeOf, ssrcOf, timestampOf } from '../media/rtp.js';
import { decodeTelephoneEvent, DTMF_KEYS, type Negotiation } from '../sdp/index.js';
import { DigitCollector } from './DigitCollector.js';
import { isMeetingNumber } from './dialIn.js';

/** What the meeting number leads to: in, unknown, not open to callers (ended), or its PIN first. */
export type MeetingLookup = 'ok' | 'unknown' | 'not-started' | { pin: true };

/** How a key reached us: RFC 4733 telephone-event in the audio RTP, or SIP INFO. */
export type DtmfPath = 'rfc4733' | 'info';

export type IvrGiveUpReason = 'wrong-meeting-numbers' | 'wrong-pins' | 'no-input';

export type IvrResult =
  /** The caller may join this meeting (the 'joining' prompt has been played). */
  | { outcome: 'joined'; meetingNumber: number }
  /** Too many wrong entries or silences: hang up. */
  | { outcome: 'gave-up'; reason: IvrGiveUpReason }
  /** stop() was called (the call ended). */
  | { outcome: 'stopped' };

/** The call's SIP INFO keys (SipCall emits them as 'dtmf'). */
export interface InfoKeySource {
  on(event: 'dtmf', listener: (digit: string) => void): unknown;
  off(event: 'dtmf', listener: (digit: string) => void): unknown;
}

export interface IvrSessionOptions {
  /** Names the call in logs and ffmpeg job ids. */
  legId: string;
  /** The answered call's ports: prompts leave from them, RFC 4733 events arrive on them. */
  ports: MediaPorts;
  negotiation: Negotiation;
  /** The SIP call, for keys sent as INFO. */
  call: InfoKeySource;
  lookup: (meetingNumber: number) => MeetingLookup | Promise<MeetingLookup>;
  checkPin: (meetingNumber: number, pin: string) => boolean | Promise<boolean>;
  logger: Logger;
  /** Wrong entries, and silences, in a row before giving up (default 3 each). */
  tries?: number;
  /** No key this long after a prompt: ask again (ms, default 20000). */
  noInputTimeoutMs?: number;
  /** An entry ends without '#' this long after its last key (ms, default 5000). */
  interDigitTimeoutMs?: number;
  ffmpegPath?: string;
}

export interface IvrSessionEvents {
  /** A key the caller pressed, on the path the session listens to. */
  key: [key: string, path: DtmfPath];
  /** A prompt starts playing. */
  prompt: [name: PromptName];
  /** An entry was read (or the caller was silent: `digits` undefined) and judged. */
  entry: [entry: { phase: 'meeting-number' | 'pin'; digits: string | undefined; verdict: 'ok' | 'unknown' | 'not-started' | 'pin' | 'wrong-pin' | 'no-input' }];
}

const STOPPED = Symbol('stopped');

/**
 * One IVR dialogue over an answered call's ports. Keys come by two paths: RFC 4733 events in the
 * audio RTP (when telephone-event was negotiated and the audio is not SRTP, whose payloads only
 * ffmpeg decrypts) and SIP INFO. Some terminals send both for every key, some send INFO although
 * they negotiated telephone-event: the first key decides the path and the other is ignored from
 * then on. An event's packets (its updates and the three end packets) share a timestamp: the key
 * counts once, at its first packet. A key stops the prompt playing (barge-in).
 */
export class IvrSession extends EventEmitter<IvrSessionEvents> {
  private readonly collector: DigitCollector;
  private readonly logger: Logger;
  private readonly tries: number;
  private player?: PromptPlayer;
  private path?: DtmfPath;
  private lastEvent?: string;
  private stopped = false;
  private resolveStopped!: (value: typeof STOPPED) => void;
  private readonly stoppedSignal = new Promise<typeof STOPPED>((resolve) => (this.resolveStopped = resolve));
  private readonly onRtp = (kind: MediaKind, packet: Buffer): void => this.onTelephoneEvent(kind, packet);
  private readonly onInfo = (digit: string): void => this.onKey(digit, 'info');

  constructor(private readonly options: IvrSessionOptions) {
    super();
    this.logger = options.logger.child({ legId: options.legId, ivr: true });
    this.tries = options.tries ?? 3;
    this.collector = new DigitCollector({
      firstDigitTimeoutMs: options.noInputTimeoutMs ?? 20_000,
      ...(options.interDigitTimeoutMs === undefined ? {} : { interDigitTimeoutMs: options.interDigitTimeoutMs }),
    });
  }

  /** Runs the dialogue; resolves how it ended. The ports and the call stay the caller's. */
  async run(): Promise<IvrResult> {
    const { audio } = this.options.negotiation;
    if (!audio) throw new Error('the IVR needs an audio stream: the call negotiated none');
    this.player = await PromptPlayer.open({ legId: this.options.legId, audio, ports: this.options.ports, logger: this.logger, ...(this.options.ffmpegPath ? { ffmpegPath: this.options.ffmpegPath } : {}) });
    if (audio.telephoneEvent && !audio.srtp) this.options.ports.on('rtp', this.onRtp);
    this.options.call.on('dtmf', this.onInfo);
    this.logger.info({ codec: audio.codec.name, rfc4733: !!audio.telephoneEvent && !audio.srtp }, 'ivr starts');
    try {
      const result = this.stopped ? { outcome: 'stopped' as const } : await this.askMeetingNumber();
      this.logger.info(result, 'ivr ends');
      return result;
    } finally {
      this.collector.stop();
      this.collector.removeAllListeners();
      this.options.ports.off('rtp', this.onRtp);
      this.options.call.off('dtmf', this.onInfo);
      await this.player.close();
    }
  }

  /** Ends the dialogue now (the call ended): run() resolves 'stopped'. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.player?.stop();
    this.resolveStopped(STOPPED);
  }

  private async askMeetingNumber(): Promise<IvrResult> {
    let prompts: PromptName[] = ['enter-meeting-number'];
    let wrong = 0;
    let silent = 0;
    for (;;) {
      const digits = await this.ask(prompts);
      if (digits === STOPPED) return { outcome: 'stopped' };
      if (digits === undefined) {
        this.emit('entry', { phase: 'meeting-number', digits, verdict: 'no-input' });
        if (++silent >= this.tries) return { outcome: 'gave-up', reason: 'no-input' };
        prompts = ['enter-meeting-number'];
        continue;
      }
      silent = 0;
      const number = Number(digits);
      const lookup = isMeetingNumber(digits) ? await this.options.lookup(number) : 'unknown';
      if (this.stopped) return { outcome: 'stopped' };
      const verdict = typeof lookup === 'object' ? 'pin' : lookup;
      this.emit('entry', { phase: 'meeting-number', digits, verdict });
      this.logger.info({ digits, verdict }, 'ivr meeting number');
      if (verdict === 'ok') return this.join(number);
      if (verdict === 'pin') return this.askPin(number);
      if (++wrong >= this.tries) return { outcome: 'gave-up', reason: 'wrong-meeting-numbers' };
      prompts = verdict === 'not-started' ? ['meeting-not-started', 'enter-meeting-number'] : ['wrong-meeting-number'];
    }
  }

  private async askPin(meetingNumber: number): Promise<IvrResult> {
    let wrong = 0;
    let silent = 0;
    for (;;) {
      const pin = await this.ask(['enter-pin']);
      if (pin === STOPPED) return { outcome: 'stopped' };
      if (pin === undefined) {
        this.emit('entry', { phase: 'pin', digits: pin, verdict: 'no-input' });
        if (++silent >= this.tries) return { outcome: 'gave-up', reason: 'no-input' };
        continue;
      }
      silent = 0;
      const right = await this.options.checkPin(meetingNumber, pin);
      if (this.stopped) return { outcome: 'stopped' };
      this.emit('entry', { phase: 'pin', digits: pin, verdict: right ? 'ok' : 'wrong-pin' });
      this.logger.info({ meetingNumber, right }, 'ivr pin');
      if (right) return this.join(meetingNumber);
      if (++wrong >= this.tries) return { outcome: 'gave-up', reason: 'wrong-pins' };
    }
  }

  private async join(meetingNumber: number): Promise<IvrResult> {
    if ((await this.say('joining')) === STOPPED) return { outcome: 'stopped' };
    return { outcome: 'joined', meetingNumber };
  }

  /**
   * Plays the prompts (a key cuts them short) and reads one entry; undefined when the caller
   * typed nothing for the no-input timeout after them.
   */
  private async ask(prompts: PromptName[]): Promise<string | undefined | typeof STOPPED> {
    const collector = this.collector;
    const entry = new Promise<string | undefined>((resolve) => {
      const done = (digits: string | undefined): void => {
        collector.off('entry', done);
        collector.off('timeout', onTimeout);
        resolve(digits);
      };
      const onTimeout = (): void => done(undefined);
      collector.on('entry', done);
      collector.on('timeout', onTimeout);
    });
    collector.start({ untimed: true });
    for (const name of prompts) {
      if (collector.keyPressed || this.stopped) break;
      if ((await this.say(name)) !== 'played') break;
    }
    collector.armTimeout();
    return Promise.race([entry, this.stoppedSignal]);
  }

  private async say(name: PromptName): Promise<'played' | 'stopped' | typeof STOPPED> {
    if (this.stopped) return STOPPED;
    this.emit('prompt', name);
    return this.player!.play(promptFile(name));
  }

  private onTelephoneEvent(kind: MediaKind, packet: Buffer): void {
    const telephoneEvent = this.options.negotiation.audio?.telephoneEvent;
    if (kind !== 'audio' || !telephoneEvent || packet.length < 16 || payloadTypeOf(packet) !== telephoneEvent.payloadType) return;
    const offset = payloadOffset(packet);
    if (packet.length < offset + 4) return;
    const eventId = `${ssrcOf(packet)}:${timestampOf(packet)}`;
    if (eventId === this.lastEvent) return; // an update or a repeated end packet of the same key
    this.lastEvent = eventId;
    const key = DTMF_KEYS[decodeTelephoneEvent(packet.subarray(offset)).event];
    if (key) this.onKey(key, 'rfc4733');
  }

  private onKey(key: string, path: DtmfPath): void {
    if (!this.path) {
      this.path = path;
      this.logger.info({ path }, 'ivr hears DTMF on this path from now on');
    }
    if (path !== this.path) {
      this.logger.debug({ key, path, listening: this.path }, 'ivr ignores a key on the other DTMF path');
      return;
    }
    this.emit('key', key, path);
    if (!this.collector.collecting) return;
    this.player?.stop();
    this.collector.press(key);
  }
}
