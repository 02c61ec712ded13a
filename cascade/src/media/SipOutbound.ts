import { SupervisedJob, type ListenIp, type mediasoupTypes as ms, type SupervisedJobEvents } from '@cityconf/sfu';
import type { Logger } from 'pino';
import type { Negotiation } from '../sdp/index.js';
import { AudioMixer } from './AudioMixer.js';
import { ConsumerTap, type PipeProducer } from './ConsumerTap.js';
import { DtmfSender } from './DtmfSender.js';
import type { MediaPorts } from './MediaPorts.js';
import { asksForKeyFrame } from './rtp.js';
import { VideoSink } from './VideoSink.js';
import { VideoSwitchPool } from './VideoSwitchPool.js';

export interface SipOutboundOptions {
  /** Names the leg in logs and temp files. */
  legId: string;
  /** The router the sources are consumed on (`pipeProducer` brings others there). */
  router: ms.Router;
  listenIp: ListenIp;
  negotiation: Negotiation;
  /** The leg's ports (SipInbound.ports): media leaves from what our SDP advertises. */
  ports: MediaPorts;
  logger: Logger;
  pipeProducer?: PipeProducer;
  /**
   * The meeting's shared video encoders (peers with the same H.264 watching the same picture share
   * one). Without it the leg gets encoders of its own, closed with it.
   */
  videoSwitches?: VideoSwitchPool;
  /** The picture sent when the leg has its own encoders (default 1280x720, what level 3.1 allows at 30 fps). */
  videoSize?: { width: number; height: number };
  /** Audio mixer inputs (default 4). */
  audioInputs?: number;
  bridgePorts?: { min: number; max: number };
  ffmpegPath?: string;
}

const DEFAULT_VIDEO_SIZE = { width: 1280, height: 720 };
const DEFAULT_AUDIO_INPUTS = 4;

/**
 * The media of a SIP leg out to the peer: one H.264 video stream (a VideoSink on the meeting's
 * shared VideoSwitchPool) and one mixed audio stream (AudioMixer) in the negotiated codecs, each
 * with one SSRC and continuous sequence numbers and timestamps whatever the sources do, sent from
 * the leg's ports; DTMF as RFC 4733 events.
 * An RTCP PLI or FIR from the peer (plain RTCP) asks the video for a key frame by itself.
 */
export class SipOutbound extends SupervisedJob<SupervisedJobEvents> {
  private readonly dtmf?: DtmfSender;
  private readonly onPeerRtcp = (kind: 'audio' | 'video', packet: Buffer): void => {
    if (kind === 'video' && asksForKeyFrame(packet)) this.requestKeyFrame();
  };

  private constructor(
    private readonly options: SipOutboundOptions,
    private readonly taps: ConsumerTap[],
    private readonly video: { sink: VideoSink; pool: VideoSwitchPool; owned: boolean } | undefined,
    private readonly audio: AudioMixer | undefined,
    logger: Logger,
  ) {
    super(logger);
    const { negotiation, ports } = options;
    if (negotiation.audio?.telephoneEvent) this.dtmf = new DtmfSender(negotiation.audio, ports);
    ports.on('rtcp', this.onPeerRtcp);
  }

  /** Starts the black picture and the (silent) mix; resolves once both send. */
  static async start(options: SipOutboundOptions): Promise<SipOutbound> {
    const logger = options.logger.child({ legId: options.legId, direction: 'outbound' });
    const { negotiation, router, listenIp, legId } = options;
    options.ports.setPeer(negotiation);
    const taps: ConsumerTap[] = [];
    let video: { sink: VideoSink; pool: VideoSwitchPool; owned: boolean } | undefined;
    let audio: AudioMixer | undefined;
    let job: SipOutbound | undefined;
    const onFailure = (reason: Error): void => job?.fail(reason);
    const common = { legId, ports: options.ports, logger, bridgePorts: options.bridgePorts, ffmpegPath: options.ffmpegPath, onFailure };
    try {
      if (negotiation.video) {
        const owned = !options.videoSwitches;
        const pool =
          options.videoSwitches ??
          new VideoSwitchPool({
            jobId: legId,
            router,
            listenIp,
            ...(options.pipeProducer ? { pipeProducer: options.pipeProducer } : {}),
            size: options.videoSize ?? DEFAULT_VIDEO_SIZE,
            logger,
            ...(options.bridgePorts ? { bridgePorts: options.bridgePorts } : {}),
            ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
          });
        video = { sink: new VideoSink(options.ports, negotiation.video.payloadType, onFailure), pool, owned };
        await pool.show(video.sink, negotiation.video, null);
      }
      if (negotiation.audio) {
        const tap = await ConsumerTap.open(router, listenIp, { legId, type: 'sip-outbound' }, options.pipeProducer);
        taps.push(tap);
        audio = await AudioMixer.start({ ...common, audio: negotiation.audio, tap, inputs: options.audioInputs ?? DEFAULT_AUDIO_INPUTS });
      }
    } catch (error) {
      await releaseVideo(video);
      await audio?.close();
      for (const opened of taps) opened.close();
      throw error;
    }
    job = new SipOutbound(options, taps, video, audio, logger);
    return job;
  }

  /** The SSRCs the peer receives, for RTCP and diagnostics. */
  get ssrcs(): { video?: number; audio?: number } {
    return { video: this.video?.sink.ssrc, audio: this.audio?.ssrc };
  }

  /** What the peer sees: this producer from its next key frame on, or black (null). */
  async setVideoSource(producer: ms.Producer | null): Promise<void> {
    if (!this.video) throw new Error('this leg has no video');
    await this.video.pool.show(this.video.sink, this.options.negotiation.video!, producer);
  }

  /** What the peer hears: these microphones mixed (leave out the peer's own). */
  async setAudioSources(producers: ms.Producer[]): Promise<void> {
    if (!this.audio) throw new Error('this leg has no audio');
    await this.audio.mix(producers);
  }

  /** The peer asked for a key frame (INFO picture_fast_update, RTCP PLI or FIR). */
  requestKeyFrame(): void {
    if (this.video) this.video.pool.requestKeyFrame(this.video.sink);
  }

  /** Sends DTMF keys as RFC 4733 events; rejects when the peer took no telephone-event. */
  sendDtmf(digits: string): Promise<void> {
    if (!this.dtmf) return Promise.reject(new Error('the peer did not negotiate telephone-event'));
    return this.dtmf.send(digits);
  }

  protected async release(): Promise<void> {
    this.dtmf?.close();
    this.options.ports.off('rtcp', this.onPeerRtcp);
    await releaseVideo(this.video);
    await this.audio?.close();
    for (const tap of this.taps) tap.close();
  }
}

/** The leg stops watching its switch; encoders of its own go with it. */
async function releaseVideo(video: { sink: VideoSink; pool: VideoSwitchPool; owned: boolean } | undefined): Promise<void> {
  if (!video) return;
  video.pool.release(video.sink);
  if (video.owned) await video.pool.close();
}
