// A drone controller pushing over RTMP: publishes the drone clip in real time, looping, with FLV
// timestamps that keep counting across loops, and notes when each video frame went out.
import { MessageType } from '../../sfu/src/bridge/rtmp/chunkStream.js';
import { FlvTagType } from '../../sfu/src/bridge/rtmp/flv.js';
import { RawRtmpClient } from '../../sfu/test/rtmpClient.js';
import type { DroneClip } from './droneClip.js';
import type { SentFrames } from './FrameArrivals.js';

const PUBLISH_STREAM_ID = 1;
const AUDIO_CSID = 4;
const VIDEO_CSID = 6;

export class RtmpDronePublisher {
  /** FLV timestamp (ms) of each video frame sent → when it was written to the socket. */
  readonly sent: SentFrames = new Map();
  private timer?: NodeJS.Timeout;
  private next = 0;
  private startedAt = 0;
  private stopped = false;

  private constructor(
    private readonly client: RawRtmpClient,
    private readonly clip: DroneClip,
  ) {}

  /** Connects and publishes to rtmp://127.0.0.1:<port>/live/<streamKey>; media starts with start(). */
  static async connect(port: number, streamKey: string, clip: DroneClip): Promise<RtmpDronePublisher> {
    const client = await RawRtmpClient.open(port);
    const status = await client.publish('live', streamKey);
    if (status.code !== 'NetStream.Publish.Start') {
      client.socket.destroy();
      throw new Error(`the RTMP server refused the publish: ${JSON.stringify(status)}`);
    }
    return new RtmpDronePublisher(client, clip);
  }

  /** Sends the sequence headers, then each frame when its timestamp is due. */
  start(): void {
    this.startedAt = epochMs();
    for (const tag of this.clip.headers) this.send(tag.type, 0, tag.data);
    this.pump();
  }

  /** Stops sending and closes the connection (the server sees the publisher end). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.client.socket.destroy();
  }

  private pump(): void {
    const { frames, loopMs } = this.clip;
    while (!this.stopped) {
      const tag = frames[this.next % frames.length]!;
      const timestamp = tag.timestamp + Math.floor(this.next / frames.length) * loopMs;
      const wait = this.startedAt + timestamp - epochMs();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      const sentAt = this.send(tag.type, timestamp, tag.data);
      if (tag.videoFrame) this.sent.set(timestamp, { at: sentAt, keyFrame: tag.keyFrame });
      this.next++;
    }
  }

  private send(type: FlvTagType, timestamp: number, data: Buffer): number {
    const video = type === FlvTagType.Video;
    const sentAt = epochMs();
    this.client.message(video ? MessageType.Video : MessageType.Audio, PUBLISH_STREAM_ID, timestamp, data, video ? VIDEO_CSID : AUDIO_CSID);
    return sentAt;
  }
}

/** Wall-clock time with sub-millisecond resolution (the same clock the receiver and Chromium read). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
