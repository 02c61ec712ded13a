// WHIP publishers: one headless Chromium page with one RTCPeerConnection per feed, each sending
// Chromium's fake camera (H.264) and microphone to POST /whip/<feedId>. An encoded transform
// notes when each encoded video frame leaves the encoder for the packetizer, by RTP timestamp.
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromiumUnits.js';
import type { SentFrames } from './FrameArrivals.js';
import { childPids } from './processTree.js';
import { epochMs } from './RtmpDronePublisher.js';

export interface WhipTarget {
  /** The feed's WHIP endpoint (publish.whip) and bearer token (publish.bearerToken). */
  url: string;
  token: string;
}

export interface VideoShape {
  width: number;
  height: number;
  frameRate: number;
  maxBitrate: number;
}

interface PublisherGlobal {
  /** Per feed: [rtpTimestamp, epoch ms, key frame] of every encoded video frame. */
  __encodedAt?: [number, number, boolean][][];
  __publishers?: RTCPeerConnection[];
}

/** Clock samples taken to line the page's clock up with ours; the one with the shortest round trip wins. */
const CLOCK_SAMPLES = 20;

export class WhipPublishers {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    /** This process's child that is the publishers' Chromium (its helpers are its descendants). */
    readonly browserPid: number | undefined,
  ) {}

  /** Launches Chromium, opens a page on `origin` and publishes one peer connection per target. */
  static async publish(origin: string, targets: WhipTarget[], shape: VideoShape): Promise<WhipPublishers> {
    const before = new Set(childPids());
    const browser = await launchChromium(`--use-fake-device-for-media-stream=fps=${shape.frameRate}`);
    const browserPid = childPids().find((pid) => !before.has(pid));
    const publishers = new WhipPublishers(browser, await browser.newPage(), browserPid);
    try {
      // A page of our own on the server's origin: a secure context (getUserMedia) without the web client.
      const pageUrl = `${origin}/bench-whip-publisher`;
      await publishers.page.route(pageUrl, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>WHIP publishers</title>' }));
      await publishers.page.goto(pageUrl);
      await publishers.page.evaluate(publishAll, { targets, shape });
    } catch (error) {
      await publishers.close();
      throw error;
    }
    return publishers;
  }

  /**
   * Per target: RTP timestamp → when that encoded frame left the encoder, on this process's clock
   * (the page's clock corrected by the offset measured now).
   */
  async encodedAt(): Promise<SentFrames[]> {
    const offset = await this.clockOffsetMs();
    const logs = await this.page.evaluate(() => (globalThis as PublisherGlobal).__encodedAt ?? []);
    return logs.map((log) => new Map(log.map(([rtpTimestamp, at, keyFrame]) => [rtpTimestamp, { at: at - offset, keyFrame }])));
  }

  async close(): Promise<void> {
    await this.page.evaluate(() => (globalThis as PublisherGlobal).__publishers?.forEach((pc) => pc.close())).catch(() => undefined);
    await this.browser.close();
  }

  /** The page's wall clock minus ours (ms), from the evaluate round trip that took least time. */
  private async clockOffsetMs(): Promise<number> {
    let best = { roundTrip: Infinity, offset: 0 };
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const sent = epochMs();
      const pageNow = await this.page.evaluate(() => performance.timeOrigin + performance.now());
      const received = epochMs();
      if (received - sent < best.roundTrip) best = { roundTrip: received - sent, offset: pageNow - (sent + received) / 2 };
    }
    return best.offset;
  }
}

/** Runs in the page: captures once, then one sendonly peer connection per target, each WHIP-published. */
async function publishAll({ targets, shape }: { targets: WhipTarget[]; shape: VideoShape }): Promise<void> {
  const global = globalThis as PublisherGlobal;
  const media = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: { exact: shape.width }, height: { exact: shape.height }, frameRate: shape.frameRate },
  });
  const [camera] = media.getVideoTracks();
  const [microphone] = media.getAudioTracks();
  const h264 = RTCRtpSender.getCapabilities('video')!.codecs.filter(
    (codec) => codec.mimeType === 'video/H264' && /packetization-mode=1/.test(codec.sdpFmtpLine ?? '') && /42e01f/.test(codec.sdpFmtpLine ?? ''),
  );
  global.__encodedAt = targets.map(() => []);
  global.__publishers = [];
  await Promise.all(
    targets.map(async (target, index) => {
      // encodedInsertableStreams is Chromium's (non-standard) switch for createEncodedStreams().
      const pc = new RTCPeerConnection({ encodedInsertableStreams: true } as RTCConfiguration);
      global.__publishers!.push(pc);
      const video = pc.addTransceiver(camera!, {
        direction: 'sendonly',
        sendEncodings: [{ maxBitrate: shape.maxBitrate, maxFramerate: shape.frameRate }],
      });
      video.setCodecPreferences(h264);
      pc.addTransceiver(microphone!, { direction: 'sendonly' });
      const log = global.__encodedAt![index]!;
      for (const transceiver of pc.getTransceivers()) {
        const isVideo = transceiver === video;
        // With encodedInsertableStreams every sender's frames pass through its streams: pass them on.
        const { readable, writable } = (transceiver.sender as RTCRtpSender & {
          createEncodedStreams(): { readable: ReadableStream<RTCEncodedVideoFrame>; writable: WritableStream<RTCEncodedVideoFrame> };
        }).createEncodedStreams();
        const stamp = new TransformStream<RTCEncodedVideoFrame, RTCEncodedVideoFrame>({
          transform(frame, controller) {
            if (isVideo) log.push([frame.getMetadata().rtpTimestamp ?? frame.timestamp, performance.timeOrigin + performance.now(), frame.type === 'key']);
            controller.enqueue(frame);
          },
        });
        void readable.pipeThrough(stamp).pipeTo(writable);
      }
      await pc.setLocalDescription(await pc.createOffer());
      // WHIP without trickle ICE: the offer carries every candidate.
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
        setTimeout(resolve, 2000);
      });
      const response = await fetch(target.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      if (response.status !== 201) throw new Error(`WHIP POST ${target.url}: ${response.status} ${await response.text()}`);
      await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    }),
  );
}
