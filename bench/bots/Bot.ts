// A simulated unit: speaks the real signaling protocol over socket.io and carries real RTP over
// plain transports (as meeting-room terminals do). It publishes a microphone and a camera with
// explicit SSRCs, keeps a roster from the join snapshot and the roster events, and consumes
// whatever its policy wants, counting what arrives per consumer SSRC.
import type { Duplex } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  BatchedEvent,
  BatchedEventName,
  JoinReply,
  MeetingControlState,
  ParticipantInfo,
  RequestName,
  RequestReplies,
  ServerEvents,
} from '../../signaling/src/protocol.js';
import type { MediaClips } from './mediaClips.js';
import type { RtpPacer, RtpStream } from './RtpPacer.js';
import { StreamCounter, type RtpReceiver } from './RtpReceiver.js';

const OPUS_PT = 100;
const VP8_PT = 101;
const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const REQUEST_TIMEOUT_MS = 30_000;
const RATE_LIMIT_RETRY_MS = 1_000;

export class RequestError extends Error {
  constructor(
    readonly request: string,
    readonly code: string,
    message: string,
  ) {
    super(`${request}: ${code} ${message}`);
  }
}

/** Another participant as this bot knows it. */
export interface KnownParticipant {
  id: string;
  unitId: string;
  /** source → producer id */
  producers: Map<string, string>;
}

/** The producer ids a bot should consume now, given what it knows. */
export type ConsumePolicy = (bot: Bot) => Set<string>;

export interface BotOptions {
  index: number;
  url: string;
  meetingId: string;
  token: string;
  clips: MediaClips;
  pacer: RtpPacer;
  receiver: RtpReceiver;
  /** The receiving UDP port the SFU sends this bot's consumers to (own or shared). */
  sinkPort: number;
  policy: ConsumePolicy;
  /** The −dBov level this bot's microphone reports while it speaks. */
  audioLevel: number;
  /** Unmuted from the start (the main venue); the others' microphones start paused. */
  microphoneOpen: boolean;
}

export class Bot {
  readonly index: number;
  readonly participants = new Map<string, KnownParticipant>();
  control: MeetingControlState | undefined;
  /** The server's audio last-N set (join reply, then audibleSpeakers), if the server sends one. */
  audible: string[] | undefined;
  selfId = '';
  /** performance.now() at the join request, and when the bot was producing with its recv transport ready. */
  joinStartedMs = 0;
  joinReplyMs = 0;
  joinedMs = 0;
  /** performance.now() when this bot first knew `expectedOthers` participants. */
  rosterCompleteMs: number | undefined;
  expectedOthers = Infinity;
  /** Requests that failed after joining (consume storms, rate limits), for the report. */
  readonly errors: string[] = [];
  /** Each activeSpeaker event: when and whom. */
  readonly activeSpeakers: { atMs: number; participantId: string | null }[] = [];
  socket!: Socket;
  sendTransport!: { id: string; ip: string; port: number };
  microphone: RtpStream | undefined;
  private microphoneId = '';
  private cameraId = '';
  private cameraOn = false;
  /** The server's last videoDemand for the camera (it starts out wanted). */
  private cameraWanted = true;
  camera: RtpStream | undefined;
  private readonly consumers = new Map<string, { consumerId: string; counter: StreamCounter }>();
  private rosterSeq = 0;
  private reconciling: Promise<void> = Promise.resolve();
  private reconcileQueued = false;
  private closed = false;
  /** The connection vanish() froze (socket.io forgets it when its own heartbeat gives up). */
  private vanishedTcp: Duplex | undefined;

  constructor(private readonly options: BotOptions) {
    this.index = options.index;
  }

  /** Connects, joins, publishes microphone and camera, and opens its recv transport. */
  async join(): Promise<void> {
    const { url, meetingId, token, clips, pacer, sinkPort, audioLevel } = this.options;
    this.socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => this.socket.once('connect', resolve).once('connect_error', reject));
    this.listen();
    this.joinStartedMs = performance.now();
    const joined: JoinReply = await this.request('join', { meetingId, token });
    this.joinReplyMs = performance.now();
    this.selfId = joined.self.id;
    this.rosterSeq = joined.rosterSeq ?? 0;
    this.control = joined.control;
    this.audible = joined.audibleIds;
    for (const participant of joined.participants) this.addParticipant(participant);
    this.checkRoster();
    await this.request('setRtpCapabilities', { rtpCapabilities: joined.routerRtpCapabilities });
    const send = await this.request('createPlainTransport', { direction: 'send' });
    this.sendTransport = send;
    const audioSsrc = 0x10000000 + this.index * 2;
    const videoSsrc = audioSsrc + 1;
    const microphone = await this.request('produce', {
      transportId: send.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }],
        headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: 1 }],
        encodings: [{ ssrc: audioSsrc }],
        rtcp: { cname: `bot-${this.index}` },
      },
    });
    const camera = await this.request('produce', {
      transportId: send.id,
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: VP8_PT, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }],
        encodings: [{ ssrc: videoSsrc }],
        rtcp: { cname: `bot-${this.index}` },
      },
    });
    this.microphoneId = microphone.id;
    this.cameraId = camera.id;
    // A unit's microphone is muted (paused) until it has the floor, as a terminal's would be.
    if (!this.options.microphoneOpen) await this.request('pauseProducer', { producerId: microphone.id });
    this.microphone = pacer.stream(clips.audio, { ip: send.ip, port: send.port, ssrc: audioSsrc, payloadType: OPUS_PT, audioLevel });
    this.camera = pacer.stream(clips.video, { ip: send.ip, port: send.port, ssrc: videoSsrc, payloadType: VP8_PT });
    const recv = await this.request('createPlainTransport', { direction: 'recv', rtcpMux: true });
    await this.request('connectPlainTransport', { transportId: recv.id, ip: '127.0.0.1', port: sinkPort });
    this.joinedMs = performance.now();
    this.update();
  }

  /**
   * Starts or stops sending: the microphone is unmuted (resumeProducer) before it sends and muted
   * (pauseProducer) after it stops; the camera producer stays open and just sends or not.
   */
  async speak(audio: boolean, video: boolean): Promise<void> {
    this.cameraOn = video;
    this.applyCamera();
    if (!this.microphone || this.microphone.playing === audio) return;
    if (audio) {
      await this.request('resumeProducer', { producerId: this.microphoneId });
      this.microphone.start(performance.now());
    } else {
      this.microphone.stop();
      await this.request('pauseProducer', { producerId: this.microphoneId });
    }
  }

  /** The −dBov level the microphone reports while talking (ROOM_NOISE_LEVEL: open but nobody talks). */
  setMicrophoneLevel(level: number): void {
    if (this.microphone) this.microphone.target.audioLevel = level;
  }

  /** The camera sends while it is on and someone watches it (videoDemand), as the web client does. */
  private applyCamera(): void {
    const send = this.cameraOn && this.cameraWanted;
    if (!this.camera || this.camera.playing === send) return;
    if (send) this.camera.start(performance.now());
    else this.camera.stop();
  }

  private silence(): void {
    this.microphone?.stop();
    this.camera?.stop();
  }

  /** The participant of a unit, if this bot knows it. */
  participantOfUnit(unitId: string): KnownParticipant | undefined {
    for (const participant of this.participants.values()) if (participant.unitId === unitId) return participant;
    return undefined;
  }

  /** Recomputes what to consume (after a roster or control change); runs one reconcile at a time. */
  update(): void {
    if (this.reconcileQueued || !this.joinedMs || this.closed) return;
    this.reconcileQueued = true;
    this.reconciling = this.reconciling.then(() => {
      this.reconcileQueued = false;
      return this.reconcile();
    });
  }

  /** Drops off the network without a word: the TCP connection stays open but nothing is read or written. */
  vanish(): void {
    this.closed = true;
    this.silence();
    const tcp = this.tcpSocket();
    if (!tcp) throw new Error('vanish: no TCP socket under the websocket transport');
    tcp.pause();
    tcp.cork();
    this.vanishedTcp = tcp;
    this.socket.io.engine.removeAllListeners();
  }

  /** Drops the connection at the end of a run, without leave. */
  destroy(): void {
    this.closed = true;
    this.silence();
    const tcp = this.vanishedTcp ?? this.tcpSocket();
    this.socket.close();
    tcp?.destroy();
  }

  /** The TCP socket under socket.io's websocket (the `ws` package's, in Node). */
  private tcpSocket(): Duplex | undefined {
    const engine = this.socket.io.engine as unknown as { transport?: { ws?: { _socket?: Duplex } } } | undefined;
    return engine?.transport?.ws?._socket;
  }

  async request<N extends RequestName>(name: N, payload: unknown): Promise<RequestReplies[N]> {
    for (;;) {
      const reply = (await this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, payload)) as Ack<RequestReplies[N]>;
      if (reply.ok) return reply.data;
      if (reply.error.code !== 'RATE_LIMITED') throw new RequestError(name, reply.error.code, reply.error.message);
      await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_RETRY_MS));
    }
  }

  private async reconcile(): Promise<void> {
    const wanted = this.options.policy(this);
    const work: Promise<void>[] = [];
    for (const producerId of wanted) if (!this.consumers.has(producerId)) work.push(this.consume(producerId));
    for (const [producerId, { consumerId }] of this.consumers) {
      if (wanted.has(producerId)) continue;
      this.consumers.delete(producerId);
      work.push(this.closeConsumer(consumerId));
    }
    const results = await Promise.allSettled(work);
    for (const result of results) if (result.status === 'rejected') this.errors.push(String(result.reason));
  }

  /** Closes a consumer; one the server closed already (its producer left) is not an error. */
  private async closeConsumer(consumerId: string): Promise<void> {
    try {
      await this.request('closeConsumer', { consumerId });
    } catch (error) {
      if (!(error instanceof RequestError && error.code === 'NOT_FOUND')) throw error;
    }
  }

  private async consume(producerId: string): Promise<void> {
    const consumer = await this.request('consume', { producerId });
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    if (typeof ssrc !== 'number') throw new Error(`consume ${producerId}: no ssrc in the reply`);
    const counter = new StreamCounter(this.index, consumer.kind, consumer.participantId);
    this.options.receiver.track(ssrc, counter);
    this.consumers.set(producerId, { consumerId: consumer.id, counter });
    await this.request('resumeConsumer', { consumerId: consumer.id });
  }

  private listen(): void {
    const roster = (name: BatchedEventName) =>
      this.socket.on(name as string, (payload: unknown) => this.rosterChange({ name, payload } as BatchedEvent));
    roster('participantJoined');
    roster('participantLeft');
    roster('producerAdded');
    roster('producerClosed');
    this.socket.on('rosterBatch', ({ events }: ServerEvents['rosterBatch']) => {
      for (const event of events) if (event.seq > this.rosterSeq && event.origin !== this.selfId) this.rosterChange(event);
    });
    this.socket.on('controlChanged', ({ control }: ServerEvents['controlChanged']) => {
      if (this.control && control.version < this.control.version) return;
      this.control = control;
      this.update();
    });
    this.socket.on('audibleSpeakers', ({ participantIds }: ServerEvents['audibleSpeakers']) => {
      this.audible = participantIds;
      this.update();
    });
    this.socket.on('videoDemand', ({ producerId, wanted }: ServerEvents['videoDemand']) => {
      if (producerId !== this.cameraId) return;
      this.cameraWanted = wanted;
      this.applyCamera();
    });
    this.socket.on('consumerClosed', ({ consumerId }: ServerEvents['consumerClosed']) => {
      for (const [producerId, consumer] of this.consumers) if (consumer.consumerId === consumerId) this.consumers.delete(producerId);
    });
    this.socket.on('activeSpeaker', ({ participantId }: ServerEvents['activeSpeaker']) => {
      this.activeSpeakers.push({ atMs: performance.now(), participantId });
    });
  }

  private rosterChange(event: BatchedEvent): void {
    switch (event.name) {
      case 'participantJoined':
        this.addParticipant(event.payload.participant);
        this.checkRoster();
        break;
      case 'participantLeft':
        this.participants.delete(event.payload.participantId);
        break;
      case 'producerAdded':
        this.participants.get(event.payload.participantId)?.producers.set(event.payload.producer.source, event.payload.producer.id);
        break;
      case 'producerClosed': {
        const producers = this.participants.get(event.payload.participantId)?.producers;
        for (const [source, id] of producers ?? []) if (id === event.payload.producerId) producers!.delete(source);
        break;
      }
      default:
        return;
    }
    this.update();
  }

  private addParticipant(info: ParticipantInfo): void {
    if (info.id === this.selfId) return;
    this.participants.set(info.id, {
      id: info.id,
      unitId: info.unitId,
      producers: new Map(info.producers.map((producer) => [producer.source, producer.id])),
    });
  }

  private checkRoster(): void {
    if (this.rosterCompleteMs === undefined && this.participants.size >= this.expectedOthers) this.rosterCompleteMs = performance.now();
  }
}
