import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { AmfObject } from './amf0.js';
import { parseAudioTag, type AudioInfo } from './audioTag.js';
import { FlvTagType, flvHeader, flvTag } from './flv.js';
import { parseVideoTag, videoInfo, type VideoInfo } from './videoTag.js';

/**
 * Why a publisher ended: 'publisher ended' (it unpublished or disconnected), 'socket error',
 * 'idle timeout' (no media for idleTimeoutMs), 'protocol error', 'consumer too slow' (`flv` was
 * not read and its buffer outgrew FLV_BUFFER_LIMIT), 'closed by server' (RtmpServer.close()), or
 * the reason given to close().
 */
export type RtmpCloseReason = 'publisher ended' | 'socket error' | 'idle timeout' | 'protocol error' | 'consumer too slow' | 'closed by server';

export interface RtmpPublisherEvents {
  /** The video's codec (and for H.264 its profile and size) is known: its sequence header came. */
  video: [info: VideoInfo];
  /** The publish is over and `flv` ends (once what it buffered is read). Emitted once. */
  close: [reason: RtmpCloseReason | string];
}

/**
 * `flv` bytes buffered for a consumer that does not read them (or reads them slower than they
 * come) before the publisher is dropped: about 30 s of a 4 Mbit/s drone feed.
 */
export const FLV_BUFFER_LIMIT = 16 * 1024 * 1024;

/** What the connection that publishes tells its publisher. */
export interface RtmpPublisherInit {
  app: string;
  streamKey: string;
  /** `ip:port` of the publisher. */
  remoteAddress: string;
  /** Ends the connection the publisher came on; its closing ends the publisher. */
  disconnect: (reason: RtmpCloseReason | string) => void;
}

/**
 * One accepted publish: what it is (codecs, profile, size, metadata), how much came, and `flv`, the
 * whole of it as an FLV byte stream from its first byte. The connection it came on owns it and
 * ends it; close() drops the publisher.
 */
export class RtmpPublisher extends EventEmitter<RtmpPublisherEvents> {
  readonly app: string;
  readonly streamKey: string;
  readonly remoteAddress: string;
  readonly startedAt = new Date();
  /**
   * The publish as FLV (header, onMetaData, every audio and video tag with its timestamp) for
   * `ffmpeg -f flv -i pipe:0`. Buffered from the first byte until read, up to FLV_BUFFER_LIMIT.
   */
  readonly flv = new Readable({ read: () => undefined });
  private metadataValue?: AmfObject;
  private videoValue?: VideoInfo;
  private audioValue?: AudioInfo;
  private headerWritten = false;
  private closedReason?: string;
  private readonly counts = { bytesReceived: 0, videoFrames: 0, audioFrames: 0, keyFrames: 0 };
  private readonly disconnect: (reason: string) => void;

  /** Made by the connection that publishes: see RtmpServer's 'publish' event. */
  constructor(init: RtmpPublisherInit) {
    super();
    this.app = init.app;
    this.streamKey = init.streamKey;
    this.remoteAddress = init.remoteAddress;
    this.disconnect = init.disconnect;
  }

  /** onMetaData from the publisher's @setDataFrame, if it sent one. */
  get metadata(): AmfObject | undefined {
    return this.metadataValue;
  }

  get video(): VideoInfo | undefined {
    return this.videoValue;
  }

  get audio(): AudioInfo | undefined {
    return this.audioValue;
  }

  /** Bytes read from the publisher's connection since the publish was accepted. */
  get bytesReceived(): number {
    return this.counts.bytesReceived;
  }

  /** Coded video frames (sequence headers not counted). */
  get videoFrames(): number {
    return this.counts.videoFrames;
  }

  /** Audio frames (AAC sequence headers not counted). */
  get audioFrames(): number {
    return this.counts.audioFrames;
  }

  get keyFrames(): number {
    return this.counts.keyFrames;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** The video info once its sequence header came; undefined if it does not within `timeoutMs` or the publish ends. */
  whenVideoKnown(timeoutMs: number): Promise<VideoInfo | undefined> {
    if (this.videoValue || this.closed) return Promise.resolve(this.videoValue);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('video', done);
        this.off('close', done);
        resolve(this.videoValue);
      };
      const timer = setTimeout(done, timeoutMs);
      this.on('video', done);
      this.on('close', done);
    });
  }

  /** Drops the publisher: its connection is closed, 'close' emitted with `reason`, `flv` ended. */
  close(reason: RtmpCloseReason | string = 'closed by server'): void {
    this.disconnect(reason);
  }

  /** Counts bytes from the connection (called by the connection). */
  received(bytes: number): void {
    this.counts.bytesReceived += bytes;
  }

  /** A script data message: onMetaData goes into `flv` and `metadata` (called by the connection). */
  receiveMetadata(timestamp: number, metadata: AmfObject, tagBody: Buffer): void {
    this.metadataValue = metadata;
    if (this.videoValue && this.videoValue.width === undefined) this.videoValue = { ...this.videoValue, ...metadataSize(metadata) };
    this.write(FlvTagType.ScriptData, timestamp, tagBody);
  }

  /** A video message, as an FLV video tag body (called by the connection). */
  receiveVideo(timestamp: number, data: Buffer): void {
    const tag = parseVideoTag(data);
    if (tag?.packet === 'frame') {
      this.counts.videoFrames++;
      if (tag.keyFrame) this.counts.keyFrames++;
      if (tag.compositionTime !== 0 && this.videoValue) this.videoValue.hasBFrames = true;
    }
    const known = this.videoValue;
    // The first sequence header (or frame) says what the video is; a later one (a new resolution) updates it.
    if (tag && tag.packet !== 'other' && (!known || tag.packet === 'sequence header')) {
      this.videoValue = { ...videoInfo(tag, metadataSize(this.metadataValue)), hasBFrames: known?.hasBFrames ?? false };
    }
    this.write(FlvTagType.Video, timestamp, data);
    if (!known && this.videoValue) this.emit('video', this.videoValue);
  }

  /** An audio message, as an FLV audio tag body (called by the connection). */
  receiveAudio(timestamp: number, data: Buffer): void {
    const tag = parseAudioTag(data);
    if (tag && (!this.audioValue || tag.isSequenceHeader)) this.audioValue = tag.info;
    if (tag && !tag.isSequenceHeader) this.counts.audioFrames++;
    this.write(FlvTagType.Audio, timestamp, data);
  }

  /** The connection is gone: emits 'close' and ends `flv` (called by the connection, once). */
  end(reason: string): void {
    if (this.closed) return;
    this.closedReason = reason;
    this.flv.push(null);
    this.emit('close', reason);
  }

  private write(type: FlvTagType, timestamp: number, data: Buffer): void {
    if (this.closed) return;
    if (!this.headerWritten) {
      this.headerWritten = true;
      // Without onMetaData first, say both: ffmpeg's demuxer waits a little longer for a stream that never comes.
      const declared = this.metadataValue;
      this.flv.push(flvHeader(!declared || declared.audiocodecid !== undefined, !declared || declared.videocodecid !== undefined));
    }
    this.flv.push(flvTag(type, timestamp, data));
    if (this.flv.readableLength > FLV_BUFFER_LIMIT) this.disconnect('consumer too slow');
  }
}

function metadataSize(metadata: AmfObject | undefined): { width?: number; height?: number } {
  const { width, height } = metadata ?? {};
  return typeof width === 'number' && typeof height === 'number' ? { width, height } : {};
}
