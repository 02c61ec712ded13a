// The meeting as the user sees it: joining, the participants and their media, the local camera and
// microphone, leaving, and joining again after a lost connection. Each join runs on a fresh
// MediaConnection; losing it tears down all remote media and schedules a rejoin. No DOM here:
// views subscribe to immutable SessionState snapshots.
import {
  BATCHED_EVENTS,
  CHAT_HISTORY_LENGTH,
  type ChatMessage,
  type FeedStatus,
  type JoinReply,
  type MediaSource,
  type ParticipantInfo,
  type Permissions,
  type ProducerInfo,
  type RecordingState,
  type RequestName,
  type RequestPayload,
  type RequestReplies,
  type ServerEventName,
  type ServerEvents,
  type SipDialRequest,
  type SipLegStatus,
} from '@cityconf/signaling/protocol';
import { ChairActions } from './chairActions';
import { hearParticipant } from './audioPlan';
import type { TransportSample } from './connectionQuality';
import { fallbackDevice } from './devices';
import { LocalMedia, type LocalSource } from './LocalMedia';
import { describeError, log } from './log';
import { MediaConnection, type InboundStats } from './MediaConnection';
import { micAllowed } from './meetingControl';
import { MeetingGovernance, type GovernanceState } from './MeetingGovernance';
import { backOff, FIRST_RETRY_DELAY_MS, unreachableAfterMs } from './reconnectPlan';
import type { VideoCodec } from './route';
import { SignalingError } from './signaling';

export type Phase = 'idle' | 'joining' | 'joined' | 'left' | 'error';
/** Why the session is rejoining by itself. */
export type Notice = 'disconnected' | 'mediaServerRestarted';
/** meetingEnded: the chair ended the meeting; removed: the chair removed this participant. */
export type EndReason = 'left' | 'sessionReplaced' | 'meetingEnded' | 'removed';

export interface RemoteMedia {
  producerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  paused: boolean;
  /** Set once the consumer is running. */
  track: MediaStreamTrack | null;
}

/** A participant as the server describes it, with their media as this client receives it. */
export interface RemoteParticipant extends Omit<ParticipantInfo, 'producers'> {
  media: RemoteMedia[];
}

export interface LocalState {
  cameraTrack: MediaStreamTrack | null;
  cameraOn: boolean;
  microphoneOn: boolean;
  /** Why a camera or microphone could not be opened. */
  mediaError: string | null;
  cameraDeviceId: string | null;
  microphoneDeviceId: string | null;
  /** A source whose device was unplugged with no other one to switch to: it is off now. */
  lostDevice: LocalSource | null;
  /** This participant's screen, while sharing it. */
  screenTrack: MediaStreamTrack | null;
}

export interface SessionError {
  code: string;
  message: string;
}

export interface SessionState extends GovernanceState {
  phase: Phase;
  meetingId: string;
  self: Omit<ParticipantInfo, 'producers'> | null;
  permissions: Permissions | null;
  participants: RemoteParticipant[];
  local: LocalState;
  error: SessionError | null;
  notice: Notice | null;
  /** Rejoining has failed for the whole escalation threshold: the server cannot be reached (retries go on). */
  serverUnreachable: boolean;
  endReason: EndReason | null;
  /** The server's main speaker (may be this participant), null until someone has spoken. */
  activeSpeakerId: string | null;
  /** The meeting's chat, oldest first (the server's recent history, then what arrived since). */
  chat: ChatMessage[];
  /** Messages from others since the chat was last marked read. */
  unreadChat: number;
  /** Drone and camera feeds: the command centre's `feeds` events, or the last listFeeds reply. */
  feeds: FeedStatus[];
  /** Whether the meeting is being recorded (录制中). */
  recording: RecordingState;
  /** The meeting's SIP legs (chairs): the `sipLegs` events, or the last listSipLegs reply. */
  sipLegs: SipLegStatus[];
}

export type MediaPreferences = Record<LocalSource, boolean>;

interface ProducerRecord extends ProducerInfo {
  consumerId: string | null;
  consuming: boolean;
  track: MediaStreamTrack | null;
  /** Video: whether the consumer is paused (hidden), and the spatial layer last asked for. */
  consumerPaused: boolean;
  layer: number | null;
  /** Video hidden: closes its consumer if it stays hidden (releaseHiddenVideo). */
  releaseTimer: ReturnType<typeof setTimeout> | null;
}

interface ParticipantRecord {
  info: Omit<ParticipantInfo, 'producers'>;
  producers: Map<string, ProducerRecord>;
}

const LOCAL_SOURCES: readonly LocalSource[] = ['camera', 'microphone'];
/** wantedLayer of a microphone that is heard (audio has no layers). */
const AUDIO_ON = -1;
const MEDIA_RESTART_REJOIN_DELAY_MS = 1_500;
const LEAVE_TIMEOUT_MS = 3_000;
/**
 * A video hidden this long loses its consumer: a paused mediasoup 3.8 video consumer still holds
 * ~1.5 MiB of server memory, and paging through a 550-unit gallery would otherwise keep hundreds.
 */
const RELEASE_HIDDEN_VIDEO_MS = 60_000;
const NOT_RECORDING: RecordingState = { active: false, recordingId: null, since: null, by: null };
/** Errors after which joining again may succeed. */
const TRANSIENT_CODES = new Set(['TIMEOUT', 'CONNECTION_FAILED', 'DISCONNECTED', 'INTERNAL']);

export class MeetingSession {
  private readonly localMedia = new LocalMedia();
  private readonly participants = new Map<string, ParticipantRecord>();
  private readonly listeners = new Set<(state: SessionState) => void>();
  private connection: MediaConnection | null = null;
  private phase: Phase = 'idle';
  private self: SessionState['self'] = null;
  private permissions: Permissions | null = null;
  private error: SessionError | null = null;
  private notice: Notice | null = null;
  private endReason: EndReason | null = null;
  private mediaError: string | null = null;
  private lostDevice: LocalSource | null = null;
  private wanted: MediaPreferences = { camera: true, microphone: true };
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelayMs = FIRST_RETRY_DELAY_MS;
  /** Runs from losing the connection until rejoining; when it fires, the server counts as unreachable. */
  private unreachableTimer: ReturnType<typeof setTimeout> | null = null;
  private serverUnreachable = false;
  /** Publishing and camera/microphone switches run one at a time. */
  private mediaQueue: Promise<void> = Promise.resolve();
  private emitScheduled = false;
  private activeSpeakerId: string | null = null;
  /** The join snapshot's place in the meeting's rosterBatch sequence. */
  private rosterSeq = 0;
  /** The server's audio last-N set (audibleSpeakers). */
  private audibleIds: string[] = [];
  private audioSyncScheduled = false;
  private chat: ChatMessage[] = [];
  private unreadChat = 0;
  /** Video producers the view shows, with the spatial layer each needs (setVisibleVideo). */
  private visibleVideo: ReadonlyMap<string, number> = new Map();
  private screenTrack: MediaStreamTrack | null = null;
  private feeds: FeedStatus[] = [];
  private recording: RecordingState = NOT_RECORDING;
  private sipLegs: SipLegStatus[] = [];
  private readonly governance = new MeetingGovernance();
  /** The chair console's requests (the server refuses those the role may not send). */
  readonly chair = new ChairActions((name, payload) => this.request(name, payload));

  constructor(
    readonly meetingId: string,
    /** The join token; also authorises the chair's attendance export. */
    readonly token: string,
    private readonly videoCodec: VideoCodec = 'vp8',
    /** Never opens the camera or microphone, and publishes nothing (command-centre walls). */
    private readonly receiveOnly = false,
    /** How long rejoining may fail before the server counts as unreachable (links may shorten it for tests). */
    private readonly unreachableAfter = unreachableAfterMs(globalThis.location?.search ?? ''),
  ) {
    this.localMedia.onEnded((source) => void this.enqueueMedia(() => this.recoverLostDevice(source)));
  }

  get state(): SessionState {
    return this.snapshot();
  }

  /** Calls `listener` now and after every change; returns the unsubscribe function. */
  subscribe(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.snapshot());
    return () => this.listeners.delete(listener);
  }

  async join(preferences: MediaPreferences = this.wanted): Promise<void> {
    if (this.phase === 'joining' || this.phase === 'joined') return;
    this.wanted = { ...preferences };
    this.error = null;
    this.notice = null;
    this.endReason = null;
    this.retryDelayMs = FIRST_RETRY_DELAY_MS;
    await this.connect({ isRetry: false });
  }

  /** While rejoining after a lost connection: the next attempt now rather than when its timer fires. */
  retryNow(): void {
    if (this.phase !== 'joining' || this.retryTimer === null) return;
    log.info('retry-now', { meetingId: this.meetingId });
    void this.connect({ isRetry: true });
  }

  async leave(): Promise<void> {
    const connection = this.detachConnection();
    this.end('left');
    if (!connection) return;
    try {
      await connection.signaling.request('leave', {}, { timeoutMs: LEAVE_TIMEOUT_MS });
    } catch (error) {
      log.warn('leave-failed', { meetingId: this.meetingId, error: describeError(error) });
    } finally {
      connection.close();
    }
  }

  /** For `pagehide`: says goodbye without waiting and releases devices and transports. */
  dispose(): void {
    this.detachConnection()?.close({ farewell: true });
    this.end('left');
  }

  setCameraEnabled(enabled: boolean): Promise<void> {
    return this.enqueueMedia(() => this.applySourceEnabled('camera', enabled));
  }

  setMicrophoneEnabled(enabled: boolean): Promise<void> {
    return this.enqueueMedia(() => this.applySourceEnabled('microphone', enabled));
  }

  /** Switches camera or microphone to another device: the producer stays, only its track changes. */
  selectDevice(source: LocalSource, deviceId: string): Promise<void> {
    return this.enqueueMedia(() => this.applyDevice(source, deviceId));
  }

  /** Before joining: the devices chosen in the lobby and its preview tracks, handed over to be published. */
  useDevices(deviceIds: Record<LocalSource, string | null>, tracks: MediaStreamTrack[] = []): void {
    for (const source of LOCAL_SOURCES) this.localMedia.preferDevice(source, deviceIds[source]);
    for (const track of tracks) this.localMedia.adoptTrack(track.kind === 'video' ? 'camera' : 'microphone', track);
  }

  /**
   * Receives exactly the video the view shows: a shown producer gets a consumer at `layer`
   * (created on first show), a hidden one's consumer is paused here and on the server, so it
   * costs neither bandwidth nor a decoder, and showing it again is one resume away. Audio follows
   * the audio last-N plan instead (wantedLayer).
   */
  setVisibleVideo(videos: ReadonlyMap<string, number>): void {
    this.visibleVideo = new Map(videos);
    const connection = this.connection;
    if (!connection) return;
    for (const participant of this.participants.values()) {
      for (const record of participant.producers.values()) {
        if (record.kind === 'video') void this.consume(connection, participant.info.id, record.id);
      }
    }
  }

  /** Sends a chat message to everyone; rejects with the server's error (e.g. BAD_REQUEST when too long). */
  async sendChat(text: string): Promise<void> {
    const connection = this.requireConnection();
    const { message } = await connection.signaling.request('sendChat', { text });
    this.appendChat(message);
    this.emit();
  }

  /** Sends a request on the joined connection; rejects with NOT_JOINED when there is none. */
  request<N extends RequestName>(name: N, payload: RequestPayload<N>): Promise<RequestReplies[N]> {
    return this.requireConnection().signaling.request(name, payload);
  }

  /** The feeds and their status, also kept in state.feeds (command centre: anyone; elsewhere: chairs). */
  async listFeeds(): Promise<FeedStatus[]> {
    const { feeds } = await this.request('listFeeds', {});
    this.feeds = feeds;
    this.emit();
    return feeds;
  }

  /** Brings a feed into this meeting as a participant (chairs). */
  async shareFeed(feedId: string): Promise<void> {
    await this.request('shareFeed', { feedId });
  }

  async unshareFeed(feedId: string): Promise<void> {
    await this.request('unshareFeed', { feedId });
  }

  /** The meeting's SIP legs (kept in state.sipLegs), the cascade targets and room terminals to dial (chairs). */
  async listSipLegs(): Promise<RequestReplies['listSipLegs']> {
    const reply = await this.request('listSipLegs', {});
    this.sipLegs = reply.legs;
    this.emit();
    return reply;
  }

  /** Dials an upper-level MCU or a unit's room terminal (chairs); the leg shows at once, calling. */
  async dialSip(request: SipDialRequest): Promise<SipLegStatus> {
    const { leg } = await this.request('dialSip', request);
    this.sipLegs = [leg, ...this.sipLegs.filter((known) => known.id !== leg.id)];
    this.emit();
    return leg;
  }

  async hangupSip(legId: string): Promise<void> {
    await this.request('hangupSip', { legId });
  }

  /**
   * Starts recording the meeting (chairs). The server tells everyone with a `recording` event;
   * the reply already marks it here, so the console's button cannot start it twice.
   */
  async startRecording(): Promise<string> {
    const { recordingId } = await this.request('startRecording', {});
    if (!this.recording.active) {
      this.recording = { active: true, recordingId, since: Date.now(), by: this.self?.name ?? null };
      this.emit();
    }
    return recordingId;
  }

  async stopRecording(): Promise<void> {
    await this.request('stopRecording', {});
    if (this.recording.active) {
      this.recording = NOT_RECORDING;
      this.emit();
    }
  }

  dismissChairNotice(seq: number): void {
    if (this.governance.dismissNotice(seq)) this.emit();
  }

  markChatRead(): void {
    if (this.unreadChat === 0) return;
    this.unreadChat = 0;
    this.emit();
  }

  async setHandRaised(raised: boolean): Promise<void> {
    const connection = this.requireConnection();
    await connection.signaling.request('setHandRaised', { raised });
    if (this.self) this.self = { ...this.self, handRaised: raised };
    this.emit();
  }

  /** Asks the user for a screen, window or tab and publishes it; the browser's own stop ends it too. */
  startScreenShare(): Promise<void> {
    return this.enqueueMedia(async () => {
      if (this.screenTrack || !navigator.mediaDevices?.getDisplayMedia) return;
      let stream: MediaStream;
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({
          video: { width: { max: 1920 }, height: { max: 1080 }, frameRate: { max: 15 } },
          audio: false,
        });
      } catch (error) {
        // NotAllowedError: the user closed the picker, which is no error to them.
        if (!(error instanceof DOMException && error.name === 'NotAllowedError')) {
          log.warn('screen-share-failed', { meetingId: this.meetingId, error: describeError(error) });
        }
        return;
      }
      const [track] = stream.getVideoTracks();
      if (!track) return;
      track.contentHint = 'detail';
      track.addEventListener('ended', () => void this.stopScreenShare());
      this.screenTrack = track;
      this.emit();
      const connection = this.connection;
      if (connection && this.phase === 'joined') await this.produceScreen(connection, track);
    });
  }

  stopScreenShare(): Promise<void> {
    return this.enqueueMedia(async () => {
      const track = this.screenTrack;
      if (!track) return;
      this.screenTrack = null;
      track.stop();
      this.emit();
      try {
        await this.connection?.closeProducer('screen');
      } catch (error) {
        log.warn('stop-screen-share-failed', { meetingId: this.meetingId, error: describeError(error) });
      }
    });
  }

  /** The media transports' counters now; null when not joined (ConnectionQuality samples them). */
  async transportSample(): Promise<TransportSample | null> {
    const connection = this.connection;
    if (!connection || this.phase !== 'joined') return null;
    return connection.transportSample().catch(() => null);
  }

  async inboundStats(): Promise<InboundStats[]> {
    return this.connection?.inboundStats() ?? [];
  }

  // ---- joining and losing the connection ----------------------------------------------------

  private async connect({ isRetry }: { isRetry: boolean }): Promise<void> {
    this.clearRetry();
    this.phase = 'joining';
    this.emit();
    const connection = new MediaConnection(this.videoCodec);
    this.connection = connection;
    const startEvents = this.listen(connection);
    connection.signaling.onDisconnect((reason) => {
      log.warn('disconnected', { meetingId: this.meetingId, reason });
      this.connectionLost(connection, 'disconnected', this.nextRetryDelay());
    });
    // A lost media path is first restarted in place (ICE restart) under the network notice; one
    // that stays lost is rebuilt by joining again.
    connection.onIceRestart((restarting) => {
      if (connection !== this.connection || this.phase !== 'joined') return;
      this.notice = restarting ? 'disconnected' : null;
      this.emit();
    });
    connection.onTransportFailed((direction) => {
      log.warn('transport-failed', { meetingId: this.meetingId, direction });
      this.connectionLost(connection, 'disconnected', this.nextRetryDelay());
    });
    try {
      const reply = await connection.join(this.meetingId, this.token);
      if (connection !== this.connection) return;
      this.applyJoinReply(reply);
      startEvents();
      log.info('joined', { meetingId: this.meetingId, participantId: reply.self.id });
      await Promise.all([
        reply.permissions.canPublish && !this.receiveOnly && this.enqueueMedia(() => this.publish(connection)),
        reply.permissions.canSubscribe && this.startReceiving(connection),
      ]);
    } catch (error) {
      if (connection !== this.connection) return; // left, or already handled as a lost connection
      this.closeConnection();
      const sessionError = toSessionError(error);
      log.warn('join-failed', { meetingId: this.meetingId, ...sessionError });
      if (isRetry && TRANSIENT_CODES.has(sessionError.code)) {
        this.scheduleRetry(this.nextRetryDelay());
        return;
      }
      this.localMedia.stop();
      this.phase = 'error';
      this.error = sessionError;
      this.notice = null;
      this.stopUnreachableTimer();
      this.emit();
    }
  }

  private applyJoinReply(reply: JoinReply): void {
    const { producers: _ownProducers, ...self } = reply.self;
    this.self = self;
    this.permissions = reply.permissions;
    this.governance.applyJoinReply(reply);
    this.recording = reply.recording;
    this.activeSpeakerId = reply.activeSpeakerId ?? null;
    this.chat = reply.chatHistory;
    this.unreadChat = 0;
    this.participants.clear();
    this.rosterSeq = reply.rosterSeq;
    this.audibleIds = reply.audibleIds ?? [];
    for (const participant of reply.participants) {
      if (participant.id !== self.id) this.upsertParticipant(participant);
    }
    this.phase = 'joined';
    this.notice = null;
    this.retryDelayMs = FIRST_RETRY_DELAY_MS;
    this.stopUnreachableTimer();
    this.emit();
  }

  private connectionLost(connection: MediaConnection, notice: Notice, delayMs: number): void {
    if (connection !== this.connection) return;
    this.closeConnection();
    this.phase = 'joining';
    this.notice = notice;
    this.startUnreachableTimer();
    this.emit();
    this.scheduleRetry(delayMs);
  }

  private startUnreachableTimer(): void {
    if (this.unreachableTimer !== null || this.serverUnreachable) return;
    this.unreachableTimer = setTimeout(() => {
      this.unreachableTimer = null;
      if (this.phase !== 'joining') return;
      log.warn('server-unreachable', { meetingId: this.meetingId, afterMs: this.unreachableAfter });
      this.serverUnreachable = true;
      this.emit();
    }, this.unreachableAfter);
  }

  private stopUnreachableTimer(): void {
    if (this.unreachableTimer !== null) clearTimeout(this.unreachableTimer);
    this.unreachableTimer = null;
    this.serverUnreachable = false;
  }

  private scheduleRetry(delayMs: number): void {
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect({ isRetry: true });
    }, delayMs);
  }

  private nextRetryDelay(): number {
    const delay = this.retryDelayMs;
    this.retryDelayMs = backOff(this.retryDelayMs);
    return delay;
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Forgets the current connection (its events are ignored from now on) and returns it. */
  private detachConnection(): MediaConnection | null {
    this.clearRetry();
    const connection = this.connection;
    this.connection = null;
    this.participants.clear();
    return connection;
  }

  private closeConnection(): void {
    this.detachConnection()?.close();
  }

  private end(reason: EndReason): void {
    this.localMedia.stop();
    this.screenTrack?.stop();
    this.screenTrack = null;
    this.phase = 'left';
    this.endReason = reason;
    this.notice = null;
    this.stopUnreachableTimer();
    this.emit();
  }

  // ---- publishing ---------------------------------------------------------------------------

  private async publish(connection: MediaConnection): Promise<void> {
    await connection.createSendTransport();
    await this.openWantedSources();
    // Floor control holds the microphone: publish it paused rather than have the server pause it.
    if (!this.micAllowed()) await this.holdMicrophone(null);
    for (const source of LOCAL_SOURCES) {
      const track = this.localMedia.track(source);
      if (!track || !connection.canProduce(track.kind === 'video' ? 'video' : 'audio')) continue;
      try {
        await connection.produce(source, track, !this.wanted[source]);
      } catch (error) {
        if (connection.isClosed) return;
        log.warn('produce-failed', { meetingId: this.meetingId, source, error: describeError(error) });
        this.mediaError = describeError(error);
        this.emit();
      }
    }
    if (this.screenTrack) await this.produceScreen(connection, this.screenTrack);
  }

  private async produceScreen(connection: MediaConnection, track: MediaStreamTrack): Promise<void> {
    try {
      await connection.produce('screen', track, false);
    } catch (error) {
      if (connection.isClosed) return;
      log.warn('produce-failed', { meetingId: this.meetingId, source: 'screen', error: describeError(error) });
      this.mediaError = describeError(error);
      this.screenTrack = null;
      track.stop();
      this.emit();
    }
  }

  private async openWantedSources(): Promise<void> {
    const { failed, error } = await this.localMedia.open(LOCAL_SOURCES.filter((source) => this.wanted[source]));
    for (const source of failed) this.wanted[source] = false;
    this.mediaError = failed.length > 0 ? describeError(error) : null;
    for (const source of LOCAL_SOURCES) this.localMedia.setEnabled(source, this.wanted[source]);
    this.emit();
  }

  private async applySourceEnabled(source: LocalSource, enabled: boolean): Promise<void> {
    if (source === 'microphone' && enabled && !this.micAllowed()) {
      this.governance.notify('floorRequired', '');
      this.emit();
      return;
    }
    this.wanted[source] = enabled;
    const reopened = enabled && !this.localMedia.track(source);
    if (reopened) await this.openWantedSources();
    if (enabled && this.localMedia.track(source) && this.lostDevice === source) this.lostDevice = null;
    this.localMedia.setEnabled(source, this.wanted[source]);
    this.emit();
    const connection = this.connection;
    const track = this.localMedia.track(source);
    if (!connection || !track || this.phase !== 'joined' || !this.permissions?.canPublish) return;
    try {
      if (connection.hasProducer(source) && reopened) await connection.replaceTrack(source, track);
      if (connection.hasProducer(source)) await connection.setProducerPaused(source, !this.wanted[source]);
      else if (this.wanted[source]) await connection.produce(source, track, false);
    } catch (error) {
      if (error instanceof SignalingError && error.code === 'FLOOR_REQUIRED') {
        await this.holdMicrophone(connection);
        this.governance.notify('floorRequired', '');
        this.emit();
      } else if (!connection.isClosed) {
        log.warn('media-switch-failed', { source, error: describeError(error) });
      }
    }
  }

  /** May this participant's microphone be on now (the chair's floor control)? */
  private micAllowed(): boolean {
    return micAllowed(this.governance.control, this.self);
  }

  /** Turns the microphone off here and stops sending it (the server has paused it, or will refuse it). */
  private async holdMicrophone(connection: MediaConnection | null): Promise<void> {
    this.wanted.microphone = false;
    this.localMedia.setEnabled('microphone', false);
    this.emit();
    if (connection?.hasProducer('microphone')) await connection.setProducerPaused('microphone', true).catch(() => undefined);
  }

  private async applyDevice(source: LocalSource, deviceId: string): Promise<void> {
    this.localMedia.preferDevice(source, deviceId);
    // A source that is not open yet opens on this device when it is turned on.
    if (this.localMedia.track(source)) {
      const { track, previous } = await this.localMedia.openDevice(source, deviceId);
      const connection = this.connection;
      try {
        if (connection?.hasProducer(source)) await connection.replaceTrack(source, track);
      } catch (error) {
        if (!connection?.isClosed) log.warn('replace-track-failed', { meetingId: this.meetingId, source, error: describeError(error) });
      }
      previous?.stop();
    }
    if (this.lostDevice === source) this.lostDevice = null;
    this.emit();
  }

  /** The device of `source` went away: switch to another one, or turn the source off and say so. */
  private async recoverLostDevice(source: LocalSource): Promise<void> {
    const lostId = this.localMedia.deviceId(source);
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    const fallbackId = fallbackDevice(devices, source === 'camera' ? 'videoinput' : 'audioinput', lostId);
    log.warn('device-lost', { meetingId: this.meetingId, source, fallback: fallbackId !== null });
    if (fallbackId) {
      try {
        await this.applyDevice(source, fallbackId);
        return;
      } catch (error) {
        log.warn('device-fallback-failed', { meetingId: this.meetingId, source, error: describeError(error) });
      }
    }
    this.localMedia.drop(source);
    this.localMedia.preferDevice(source, null);
    this.wanted[source] = false;
    this.lostDevice = source;
    this.emit();
    const connection = this.connection;
    if (connection?.hasProducer(source)) await connection.setProducerPaused(source, true).catch(() => undefined);
  }

  private enqueueMedia(task: () => Promise<void>): Promise<void> {
    const run = this.mediaQueue.then(task);
    this.mediaQueue = run.catch(() => undefined);
    return run;
  }

  // ---- subscribing --------------------------------------------------------------------------

  private async startReceiving(connection: MediaConnection): Promise<void> {
    await connection.createRecvTransport();
    for (const participant of this.participants.values()) {
      for (const producer of participant.producers.values()) void this.consume(connection, participant.info.id, producer.id);
    }
  }

  private async consume(connection: MediaConnection, participantId: string, producerId: string): Promise<void> {
    const record = this.producerRecord(participantId, producerId);
    if (record) await this.syncConsumer(connection, participantId, record);
  }

  /**
   * What a producer's consumer should be: video at the layer the view shows it (visibleVideo),
   * audio on while the participant is heard (audio last-N, audioPlan.ts); null: paused.
   */
  private wantedLayer(participantId: string, record: ProducerRecord): number | null {
    if (record.kind === 'video') return this.visibleVideo.get(record.id) ?? null;
    const participant = this.participants.get(participantId)?.info;
    if (!participant) return null;
    const context = { audibleIds: this.audibleIds, control: this.governance.control, others: this.participants.size };
    return hearParticipant(participant, context) ? AUDIO_ON : null;
  }

  /**
   * syncAudio once after the current batch of events: a rosterBatch of 500 joins re-plans the
   * audio once, not 500 times over every microphone.
   */
  private scheduleAudioSync(connection: MediaConnection): void {
    if (this.audioSyncScheduled) return;
    this.audioSyncScheduled = true;
    queueMicrotask(() => {
      this.audioSyncScheduled = false;
      if (connection === this.connection) this.syncAudio(connection);
    });
  }

  /** Re-applies the audio plan to every microphone (the audible set or the floor changed). */
  private syncAudio(connection: MediaConnection): void {
    for (const participant of this.participants.values()) {
      for (const record of participant.producers.values()) {
        if (record.kind === 'audio') void this.syncConsumer(connection, participant.info.id, record);
      }
    }
  }

  /**
   * Brings a consumer in line with wantedLayer, one step at a time, until nothing changes: created
   * paused on first want, resumed/paused as wanted, its layer set (video). A paused one is closed
   * after RELEASE_HIDDEN_VIDEO_MS; until then it comes back with one resume (a recent speaker's
   * audio has no gap).
   */
  private async syncConsumer(connection: MediaConnection, participantId: string, record: ProducerRecord): Promise<void> {
    if (record.consuming || !connection.canReceive) return;
    record.consuming = true;
    const current = (): boolean => connection === this.connection && this.producerRecord(participantId, record.id) === record;
    try {
      while (current()) {
        const layer = this.wantedLayer(participantId, record);
        if (!record.consumerId) {
          if (layer === null) return;
          const consumer = await connection.consume(record.id, { paused: true });
          if (!current()) {
            connection.closeConsumer(consumer.id);
            return;
          }
          record.consumerId = consumer.id;
          record.track = consumer.track;
          record.consumerPaused = true;
          record.layer = null;
          this.emit();
        } else if (layer !== null && record.layer !== layer) {
          if (record.kind === 'video') await connection.setConsumerLayer(record.consumerId, layer);
          record.layer = layer;
        } else if (record.consumerPaused !== (layer === null)) {
          await connection.setConsumerPaused(record.consumerId, layer === null);
          record.consumerPaused = layer === null;
          this.scheduleRelease(connection, participantId, record);
          this.emit();
        } else {
          return;
        }
      }
    } catch (error) {
      // NOT_FOUND is normal when the producer closed meanwhile; its producerClosed event follows.
      if (!connection.isClosed) log.warn('consumer-sync-failed', { participantId, producerId: record.id, error: describeError(error) });
    } finally {
      record.consuming = false;
    }
  }

  /** Closes every hidden (paused) video consumer now, instead of RELEASE_HIDDEN_VIDEO_MS later. */
  releaseHiddenVideo(): void {
    const connection = this.connection;
    if (!connection) return;
    for (const participant of this.participants.values()) {
      for (const record of participant.producers.values()) this.releaseVideo(connection, participant.info.id, record);
    }
  }

  /** A paused (hidden) video consumer is closed after RELEASE_HIDDEN_VIDEO_MS; showing it again re-consumes. */
  private scheduleRelease(connection: MediaConnection, participantId: string, record: ProducerRecord): void {
    if (record.releaseTimer) clearTimeout(record.releaseTimer);
    record.releaseTimer = record.consumerPaused
      ? setTimeout(() => this.releaseVideo(connection, participantId, record), RELEASE_HIDDEN_VIDEO_MS)
      : null;
  }

  private releaseVideo(connection: MediaConnection, participantId: string, record: ProducerRecord): void {
    if (record.releaseTimer) clearTimeout(record.releaseTimer);
    record.releaseTimer = null;
    const consumerId = record.consumerId;
    const current = connection === this.connection && this.producerRecord(participantId, record.id) === record;
    if (!current || !consumerId || !record.consumerPaused || record.consuming) return;
    record.consumerId = null;
    record.track = null;
    record.layer = null;
    record.consumerPaused = false;
    this.emit();
    connection.releaseConsumer(consumerId).catch((error: unknown) => {
      if (!connection.isClosed) log.warn('release-consumer-failed', { participantId, consumerId, error: describeError(error) });
    });
  }

  // ---- server events ------------------------------------------------------------------------

  /**
   * Subscribes to the server's events on `connection`. They are held back until the returned
   * function is called, so that none is applied before the join reply.
   */
  private listen(connection: MediaConnection): () => void {
    let heldBack: Array<() => void> | null = [];
    const deliver = (run: () => void): void => {
      if (heldBack) heldBack.push(run);
      else run();
    };
    const batched = new Map<string, (payload: never) => void>();
    const on = <E extends ServerEventName>(event: E, handle: (payload: ServerEvents[E]) => void): void => {
      if ((BATCHED_EVENTS as readonly string[]).includes(event)) {
        batched.set(event, handle as (payload: never) => void);
        return;
      }
      connection.signaling.on(event, (payload) => deliver(() => connection === this.connection && handle(payload)));
    };
    // Roster and producer changes arrive in batches; items already in the join snapshot are skipped.
    connection.signaling.on('rosterBatch', ({ events }) =>
      deliver(() => {
        if (connection !== this.connection) return;
        for (const item of events) {
          if (item.seq <= this.rosterSeq || item.origin === this.self?.id) continue;
          (batched.get(item.name) as ((payload: typeof item.payload) => void) | undefined)?.(item.payload);
        }
      }),
    );
    on('participantJoined', ({ participant }) => {
      if (participant.id === this.self?.id) return;
      this.upsertParticipant(participant);
      this.emit();
      for (const producer of participant.producers) void this.consume(connection, participant.id, producer.id);
      this.scheduleAudioSync(connection); // the meeting may have outgrown receiving every microphone
    });
    on('participantLeft', ({ participantId }) => {
      const participant = this.participants.get(participantId);
      if (!participant) return;
      for (const producer of participant.producers.values()) {
        if (producer.consumerId) connection.closeConsumer(producer.consumerId);
      }
      this.participants.delete(participantId);
      this.emit();
      this.scheduleAudioSync(connection);
    });
    on('producerAdded', ({ participantId, producer }) => {
      const participant = this.participants.get(participantId);
      if (!participant || participant.producers.has(producer.id)) return;
      participant.producers.set(producer.id, newProducerRecord(producer));
      this.emit();
      void this.consume(connection, participantId, producer.id);
    });
    on('producerUpdated', ({ participantId, producerId, paused }) => {
      const record = this.producerRecord(participantId, producerId);
      if (!record) return;
      record.paused = paused;
      this.emit();
    });
    on('producerClosed', ({ participantId, producerId }) => {
      const record = this.producerRecord(participantId, producerId);
      if (!record) return;
      if (record.consumerId) connection.closeConsumer(record.consumerId);
      this.participants.get(participantId)?.producers.delete(producerId);
      this.emit();
    });
    on('consumerClosed', ({ consumerId }) => {
      connection.closeConsumer(consumerId);
      for (const participant of this.participants.values()) {
        for (const record of participant.producers.values()) {
          if (record.consumerId !== consumerId) continue;
          record.consumerId = null;
          record.track = null;
          this.emit();
        }
      }
    });
    on('participantUpdated', ({ participant }) => {
      if (participant.id === this.self?.id || !this.participants.has(participant.id)) return;
      this.upsertParticipant(participant);
      this.emit();
    });
    on('videoDemand', ({ producerId, wanted }) => {
      connection.setSendingWanted(producerId, wanted).catch((error: unknown) => {
        log.warn('video-demand-failed', { producerId, wanted, error: describeError(error) });
      });
    });
    on('chatMessage', ({ message }) => {
      this.appendChat(message);
      this.unreadChat++;
      this.emit();
    });
    on('activeSpeaker', ({ participantId }) => {
      this.activeSpeakerId = participantId;
      this.emit();
    });
    on('sessionEnded', ({ reason, message }) => {
      log.warn('session-ended', { meetingId: this.meetingId, reason, message });
      if (reason === 'MEDIA_SERVER_RESTARTED') {
        this.connectionLost(connection, 'mediaServerRestarted', MEDIA_RESTART_REJOIN_DELAY_MS);
      } else {
        this.closeConnection();
        this.end(END_REASONS[reason]);
      }
    });
    on('feeds', ({ feeds }) => {
      this.feeds = feeds;
      this.emit();
    });
    on('sipLegs', ({ legs }) => {
      this.sipLegs = legs;
      this.emit();
    });
    on('recording', ({ recording, reason }) => {
      this.recording = recording;
      if (reason === 'disk-full') this.governance.notify('recordingDiskFull', '');
      else if (reason === 'failed') this.governance.notify('recordingFailed', '');
      this.emit();
    });
    on('audibleSpeakers', ({ participantIds }) => {
      this.audibleIds = participantIds;
      this.syncAudio(connection);
    });
    on('controlChanged', ({ control }) => {
      if (!this.governance.applyControl(control)) return;
      this.syncHands(control.handQueue);
      this.syncAudio(connection);
      this.emit();
      if (this.localMedia.isEnabled('microphone') && !this.micAllowed()) void this.enqueueMedia(() => this.holdMicrophone(connection));
    });
    on('rollCallStatus', ({ unitId, status }) => {
      this.governance.applyRollCallStatus(unitId, status);
      this.emit();
    });
    on('chairNotice', ({ kind, by }) => {
      this.governance.notify(kind, by);
      this.emit();
      if (kind === 'muted' || (kind === 'floorRevoked' && !this.micAllowed())) void this.enqueueMedia(() => this.holdMicrophone(connection));
      else if (kind === 'cameraOff') void this.setCameraEnabled(false);
      // Being called gives the floor for the call: open the microphone to answer.
      else if (kind === 'rollCalled' && this.micAllowed() && this.permissions?.canPublish) void this.setMicrophoneEnabled(true);
    });
    return () => {
      const queued = heldBack ?? [];
      heldBack = null;
      for (const run of queued) run();
    };
  }

  /** Hands are the server's queue: granting or denying the floor lowers them without a participantUpdated. */
  private syncHands(queue: ReadonlyArray<{ unitId: string }>): void {
    const raised = new Set(queue.map((hand) => hand.unitId));
    if (this.self && this.self.handRaised !== raised.has(this.self.unitId)) this.self = { ...this.self, handRaised: !this.self.handRaised };
    for (const record of this.participants.values()) {
      if (record.info.handRaised !== raised.has(record.info.unitId)) record.info = { ...record.info, handRaised: !record.info.handRaised };
    }
  }

  private appendChat(message: ChatMessage): void {
    this.chat = [...this.chat, message].slice(-CHAT_HISTORY_LENGTH);
  }

  private upsertParticipant({ producers, ...info }: ParticipantInfo): void {
    const existing = this.participants.get(info.id);
    const record: ParticipantRecord = existing ?? { info, producers: new Map() };
    record.info = info;
    for (const producer of producers) {
      if (!record.producers.has(producer.id)) record.producers.set(producer.id, newProducerRecord(producer));
    }
    this.participants.set(info.id, record);
  }

  private requireConnection(): MediaConnection {
    if (!this.connection || this.phase !== 'joined') throw new SignalingError('NOT_JOINED', 'not in the meeting');
    return this.connection;
  }

  private producerRecord(participantId: string, producerId: string): ProducerRecord | undefined {
    return this.participants.get(participantId)?.producers.get(producerId);
  }

  // ---- state snapshots ------------------------------------------------------------------------

  /** Notifies listeners once per microtask, however many changes were made. */
  private emit(): void {
    if (this.emitScheduled) return;
    this.emitScheduled = true;
    queueMicrotask(() => {
      this.emitScheduled = false;
      const state = this.snapshot();
      for (const listener of this.listeners) listener(state);
    });
  }

  private snapshot(): SessionState {
    return {
      phase: this.phase,
      meetingId: this.meetingId,
      self: this.self,
      permissions: this.permissions,
      participants: [...this.participants.values()].map(({ info, producers }) => ({
        ...info,
        media: [...producers.values()].map(({ id, kind, source, paused, track }) => ({
          producerId: id,
          kind,
          source,
          paused,
          track,
        })),
      })),
      local: {
        cameraTrack: this.localMedia.track('camera'),
        cameraOn: this.localMedia.isEnabled('camera'),
        microphoneOn: this.localMedia.isEnabled('microphone'),
        mediaError: this.mediaError,
        cameraDeviceId: this.localMedia.deviceId('camera'),
        microphoneDeviceId: this.localMedia.deviceId('microphone'),
        lostDevice: this.lostDevice,
        screenTrack: this.screenTrack,
      },
      error: this.error,
      notice: this.notice,
      serverUnreachable: this.serverUnreachable,
      endReason: this.endReason,
      activeSpeakerId: this.activeSpeakerId,
      chat: this.chat,
      unreadChat: this.unreadChat,
      feeds: this.feeds,
      recording: this.recording,
      sipLegs: this.sipLegs,
      ...this.governance.snapshot,
    };
  }
}

const END_REASONS: Record<Exclude<ServerEvents['sessionEnded']['reason'], 'MEDIA_SERVER_RESTARTED'>, EndReason> = {
  SESSION_REPLACED: 'sessionReplaced',
  MEETING_ENDED: 'meetingEnded',
  REMOVED: 'removed',
};

function newProducerRecord(producer: ProducerInfo): ProducerRecord {
  return { ...producer, consumerId: null, consuming: false, track: null, consumerPaused: false, layer: null, releaseTimer: null };
}

function toSessionError(error: unknown): SessionError {
  if (error instanceof SignalingError) return { code: error.code, message: error.message };
  return { code: 'CLIENT_ERROR', message: describeError(error) };
}
