// The `drone` relay scenario: N drone feeds pushed into the real server in this process (RTMP:
// Node publishers pacing a pre-encoded H.264 High clip; WHIP: Chromium peer connections), the
// command-centre wall in headless Chromium subscribed to all of them, and a plain-RTP consumer
// of each feed's video that times every frame from the publisher to the SFU's output.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { mediasoupTypes as ms } from '@cityconf/sfu';
import { mintToken } from '../../signaling/src/auth/tokens.js';
import { DEV_OPERATOR_API_KEY } from '../../signaling/src/config.js';
import { COMMAND_CENTRE_MEETING_ID, type FeedStatus } from '../../signaling/src/protocol.js';
import { startServer, type RunningServer } from '../../signaling/src/server.js';
import { ChromiumUnits } from './chromiumUnits.js';
import { loadDroneClip } from './droneClip.js';
import { FrameArrivals, type ArrivedFrame, type SentFrames } from './FrameArrivals.js';
import { percentile, round1, sleep, until } from './meetingScenario.js';
import { childPids, commandLine, GroupCpuWindow, processTree } from './processTree.js';
import { UsageWindow } from './resourceUsage.js';
import { epochMs, RtmpDronePublisher } from './RtmpDronePublisher.js';
import { WhipPublishers } from './WhipPublishers.js';

export type DroneProtocol = 'rtmp' | 'whip';

export interface DroneScenarioOptions {
  feeds: number;
  protocol: DroneProtocol;
  /** Length of the measured window, after the warm-up. */
  durationSeconds: number;
  /** Feeds created with transcode: true (the ingest re-encodes the video to H.264 baseline). */
  transcode: boolean;
  numWorkers: number;
  log: (message: string) => void;
}

export const DEFAULT_DRONE_OPTIONS: DroneScenarioOptions = {
  feeds: 8,
  protocol: 'rtmp',
  durationSeconds: 30,
  transcode: false,
  numWorkers: 2,
  log: () => undefined,
};

/** Publishing starts this long before the measured window: ffmpeg's probe and the first key frames. */
const WARM_UP_MS = 3_000;
const PRODUCER_TIMEOUT_MS = 20_000;
/** WHIP publishers: Chromium's fake camera, sized and paced like the RTMP clip. */
const WHIP_VIDEO = { width: 1280, height: 720, frameRate: 30, maxBitrate: 2_500_000 };
/** RTP clock units per ms (video). */
const RTP_TICKS_PER_MS = 90;

export interface DroneFeedResult {
  name: string;
  frames_sent: number;
  frames_timed: number;
  latency_ms_p50: number | null;
  latency_ms_p95: number | null;
  /** Frames that reached the consumer whose RTP timestamp matches no frame the publisher sent. */
  frames_unmatched: number;
  /** Frames whose key-frame flag differs between what was sent and what arrived (a wrong mapping); re-encoded video: 0, not checked. */
  key_frame_mismatches: number;
  frames_decoded: number;
  /** The profile-level-id the feed's video producer declares. */
  profile_level_id: string | null;
  transcoded: boolean | null;
  state: string;
}

export interface DroneResult {
  feeds: number;
  protocol: DroneProtocol;
  /** (mediasoup workers + ingest ffmpegs) ÷ feeds, % of one core. */
  cpu_pct_per_feed: number;
  added_latency_ms_p50: number | null;
  added_latency_ms_p95: number | null;
  added_latency_ms_max: number | null;
  transcoded_video: boolean;
  /** Video frames the command-centre wall (headless Chromium) decoded, all feeds together. */
  frames_decoded: number;
  frames_decoded_per_feed: number[];
  /** Video consumers the wall holds on the server: a feed whose H.264 profile the wall cannot decode gets none. */
  wall_video_consumers: number;
  window_s: number;
  worker_cpu_pct: number[];
  ingest_ffmpeg_cpu_pct: number;
  ingest_ffmpeg_processes: number;
  /** This process: signaling, the RTMP server and the bench's own publishers and receiver (RTMP). */
  node_cpu_pct: number;
  /** Upper bound with this whole process counted as server: (workers + ffmpegs + node) ÷ feeds. */
  cpu_pct_per_feed_with_node: number;
  publisher_chromium_cpu_pct: number | null;
  wall_chromium_cpu_pct: number;
  host_cpu_pct: number;
  host_steal_pct: number;
  latency_method: string;
  per_feed: DroneFeedResult[];
}

/** A percentile to 0.1 ms (latencies on loopback are often below a millisecond). */
function percentileTenths(values: number[], p: number): number | null {
  const tenths = percentile(values.map((value) => value * 10), p);
  return tenths === null ? null : tenths / 10;
}

/** A feed as the operator API created it. */
interface CreatedFeed {
  id: string;
  name: string;
  streamKey: string;
  publish: { rtmp?: string; whip?: string; bearerToken?: string };
}

/** Everything one run owns; closed in teardown(). */
interface Run {
  server: RunningServer;
  dataDir: string;
  arrivals: FrameArrivals;
  transports: ms.PlainTransport[];
  wall?: ChromiumUnits;
  rtmpPublishers: RtmpDronePublisher[];
  whipPublishers?: WhipPublishers;
}

async function operatorApi<T>(server: RunningServer, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** A plain-RTP consumer of the feed's video on its router, sending to `arrivals`; resolves with its frames. */
async function consumeFeedVideo(run: Run, feed: CreatedFeed): Promise<ArrivedFrame[]> {
  const participantOf = () => run.server.sfu.meeting(COMMAND_CENTRE_MEETING_ID)?.participants.get(`feed-${feed.id}`);
  const videoOf = () => [...(participantOf()?.producers.values() ?? [])].find((producer) => producer.kind === 'video');
  if (!(await until(() => videoOf() !== undefined, PRODUCER_TIMEOUT_MS))) throw new Error(`feed ${feed.name} has no video producer`);
  const router = await participantOf()!.mediaRouter();
  const transport = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
  run.transports.push(transport);
  await transport.connect({ ip: '127.0.0.1', port: run.arrivals.port });
  const consumer = await transport.consume({ producerId: videoOf()!.id, rtpCapabilities: router.rtpCapabilities });
  return run.arrivals.track(consumer.rtpParameters.encodings![0]!.ssrc!);
}

/** The H.264 profile-level-id of a feed's video producer in the command centre. */
function feedVideoProfile(server: RunningServer, feedId: string): string | null {
  const participant = server.sfu.meeting(COMMAND_CENTRE_MEETING_ID)?.participants.get(`feed-${feedId}`);
  const video = [...(participant?.producers.values() ?? [])].find((producer) => producer.kind === 'video');
  const profile = video?.rtpParameters.codecs[0]?.parameters?.['profile-level-id'];
  return profile === undefined ? null : String(profile);
}

/** Video consumers held by the command centre's participants that are not feeds (the wall). */
function wallVideoConsumers(server: RunningServer): number {
  const participants = [...(server.sfu.meeting(COMMAND_CENTRE_MEETING_ID)?.participants.values() ?? [])];
  return participants
    .filter((participant) => !participant.id.startsWith('feed-'))
    .reduce((sum, participant) => sum + [...participant.consumers.values()].filter((consumer) => consumer.kind === 'video').length, 0);
}

async function openWall(run: Run): Promise<{ wall: ChromiumUnits; pid: number | undefined }> {
  const token = await mintToken(run.server.config.auth, {
    room: COMMAND_CENTRE_MEETING_ID,
    identity: 'bench-command-wall',
    name: '指挥中心大屏',
    role: 'observer',
  });
  const before = new Set(childPids());
  const wall = await ChromiumUnits.join([`${run.server.url}/command?${new URLSearchParams({ token })}`]);
  return { wall, pid: childPids().find((pid) => !before.has(pid) && commandLine(pid).includes('chromium')) };
}

/** Finds the frame a publisher sent under a frame key: exactly, or the nearest within half a frame (re-encoded video). */
function sentFrameFinder(sent: SentFrames, exact: boolean): (key: number) => { at: number; keyFrame: boolean } | undefined {
  if (exact) return (key) => sent.get(key);
  const keys = [...sent.keys()].sort((a, b) => a - b);
  const halfFrameMs = 1000 / 30 / 2;
  return (key) => {
    let low = 0;
    let high = keys.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (keys[middle]! < key) low = middle + 1;
      else high = middle;
    }
    const nearest = [keys[low - 1], keys[low]].filter((candidate) => candidate !== undefined && Math.abs(candidate - key) <= halfFrameMs);
    nearest.sort((a, b) => Math.abs(a! - key) - Math.abs(b! - key));
    return nearest[0] === undefined ? undefined : sent.get(nearest[0]);
  };
}

/**
 * Per-frame latency of one feed: arrival of each frame's first packet at the consumer minus when
 * the publisher sent it, for frames sent inside [from, to]. `keyOf` maps an RTP timestamp to the
 * publisher's frame key; forwarded video must match exactly (and agree on key frames), re-encoded
 * video (new timestamps, its own key frames) is matched to the nearest frame sent. Frames that
 * arrived in the window and match nothing count as unmatched.
 */
function frameLatencies(
  sent: SentFrames,
  arrived: ArrivedFrame[],
  keyOf: (rtpTimestamp: number) => number,
  reencoded: boolean,
  { from, to }: { from: number; to: number },
) {
  const find = sentFrameFinder(sent, !reencoded);
  const latencies: number[] = [];
  let unmatched = 0;
  let keyFrameMismatches = 0;
  for (const frame of arrived) {
    const sentFrame = find(keyOf(frame.rtpTimestamp));
    if (!sentFrame) {
      if (frame.arrivedAt >= from && frame.arrivedAt <= to) unmatched++;
      continue;
    }
    if (!reencoded && sentFrame.keyFrame !== frame.keyFrame) keyFrameMismatches++;
    if (sentFrame.at >= from && sentFrame.at <= to) latencies.push(frame.arrivedAt - sentFrame.at);
  }
  const framesSent = [...sent.values()].filter(({ at }) => at >= from && at <= to).length;
  return { latencies, unmatched, keyFrameMismatches, framesSent };
}

/**
 * RTMP: ffmpeg's RTP timestamps are a random base + the FLV timestamp × 90. The consumer exists
 * before the publisher starts, so its first frame is the publisher's first video frame (a key
 * frame): that anchors the base. The unmatched and key-frame counts check the mapping; a mapping
 * off by k frames would shift every latency by k × 33 ms.
 */
function flvKeyOf(sent: SentFrames, arrived: ArrivedFrame[]): (rtpTimestamp: number) => number {
  const [firstSent] = sent.keys();
  const base = arrived[0]?.rtpTimestamp ?? 0;
  return (rtpTimestamp) => (firstSent ?? 0) + ((rtpTimestamp - base) | 0) / RTP_TICKS_PER_MS;
}

/** Consumers first (so that each sees its feed's first frame), then the publishers, started together. */
async function startRtmp(run: Run, feeds: CreatedFeed[]): Promise<ArrivedFrame[][]> {
  const clip = loadDroneClip();
  const arrived = await Promise.all(feeds.map((feed) => consumeFeedVideo(run, feed)));
  for (const feed of feeds) {
    const port = Number(new URL(feed.publish.rtmp!).port);
    run.rtmpPublishers.push(await RtmpDronePublisher.connect(port, feed.streamKey, clip));
  }
  for (const publisher of run.rtmpPublishers) publisher.start();
  return arrived;
}

async function teardown(run: Run): Promise<void> {
  for (const publisher of run.rtmpPublishers) publisher.stop();
  await run.whipPublishers?.close().catch(() => undefined);
  await run.wall?.close().catch(() => undefined);
  for (const transport of run.transports) transport.close();
  run.arrivals.close();
  await run.server.close();
  rmSync(run.dataDir, { recursive: true, force: true });
}

export async function runDroneScenario(overrides: Partial<DroneScenarioOptions> = {}): Promise<DroneResult> {
  const options = { ...DEFAULT_DRONE_OPTIONS, ...overrides };
  const { log, protocol } = options;
  if (protocol !== 'rtmp' && protocol !== 'whip') throw new RangeError(`protocol: rtmp or whip, not ${String(protocol)}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'cityconf-bench-drone-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, rtmpPort: 0, logLevel: 'silent', dataDir, sfu: { numWorkers: options.numWorkers } });
  const run: Run = { server, dataDir, arrivals: await FrameArrivals.open(), transports: [], rtmpPublishers: [] };
  try {
    const feeds: CreatedFeed[] = [];
    for (let i = 0; i < options.feeds; i++) {
      const body = { name: `${i + 1}号无人机`, kind: protocol, transcode: options.transcode };
      feeds.push(await operatorApi<CreatedFeed>(server, 'POST', '/api/feeds', body));
    }
    log(`${feeds.length} ${protocol} feeds created; opening the command-centre wall`);
    const wall = await openWall(run);
    run.wall = wall.wall;

    let arrived: ArrivedFrame[][];
    const publishedAt = epochMs();
    if (protocol === 'rtmp') {
      arrived = await startRtmp(run, feeds);
    } else {
      const targets = feeds.map((feed) => ({ url: feed.publish.whip!, token: feed.publish.bearerToken! }));
      run.whipPublishers = await WhipPublishers.publish(server.url, targets, WHIP_VIDEO);
      arrived = await Promise.all(feeds.map((feed) => consumeFeedVideo(run, feed)));
    }
    const publisherPid = run.whipPublishers?.browserPid;
    log(`publishing ${feeds.length} feeds; measuring after a ${WARM_UP_MS / 1000} s warm-up for ${options.durationSeconds} s`);
    await sleep(publishedAt + WARM_UP_MS - epochMs());

    const workers = server.sfu.pool.workers;
    const usage = new UsageWindow(workers.map((worker) => worker.pid));
    const ingestFfmpegs = () => childPids().filter((pid) => /ffmpeg .*-f flv -i pipe:0/.test(commandLine(pid)));
    const ffmpegCpu = new GroupCpuWindow(ingestFfmpegs);
    const wallCpu = new GroupCpuWindow(() => (wall.pid ? processTree([wall.pid]) : []));
    const publisherCpu = new GroupCpuWindow(() => (publisherPid ? processTree([publisherPid]) : []));
    const windowStart = epochMs();
    await sleep(options.durationSeconds * 1000);
    const windowEnd = epochMs();
    const used = usage.end();
    const ffmpeg = ffmpegCpu.end();
    const wallUsed = wallCpu.end();
    const publisherUsed = publisherCpu.end();
    // Frames sent at the window's end may still be on their way.
    await sleep(500);

    // Chromium's encoded frames carry the RTP timestamp that goes on the wire, and the SFU keeps it.
    const sent: SentFrames[] = run.whipPublishers ? await run.whipPublishers.encodedAt() : run.rtmpPublishers.map((publisher) => publisher.sent);
    const keyOf = arrived.map((frames, i) => (protocol === 'rtmp' ? flvKeyOf(sent[i]!, frames) : (rtpTimestamp: number) => rtpTimestamp));
    const statuses = (await operatorApi<{ items: (CreatedFeed & { status: FeedStatus | null })[] }>(server, 'GET', '/api/feeds')).items;
    const statusOf = (feed: CreatedFeed) => statuses.find((item) => item.id === feed.id)?.status ?? null;
    const framesDecoded = await Promise.all(feeds.map(async (feed) => (await wall.wall.framesDecoded(new Set([`feed-${feed.id}`])))[0] ?? 0));

    const allLatencies: number[] = [];
    const perFeed = feeds.map((feed, i): DroneFeedResult => {
      const status = statusOf(feed);
      const timed = frameLatencies(sent[i]!, arrived[i]!, keyOf[i]!, status?.video?.transcoded === true, { from: windowStart, to: windowEnd });
      allLatencies.push(...timed.latencies);
      return {
        name: feed.name,
        frames_sent: timed.framesSent,
        frames_timed: timed.latencies.length,
        latency_ms_p50: percentileTenths(timed.latencies, 50),
        latency_ms_p95: percentileTenths(timed.latencies, 95),
        frames_unmatched: timed.unmatched,
        key_frame_mismatches: timed.keyFrameMismatches,
        frames_decoded: framesDecoded[i]!,
        profile_level_id: feedVideoProfile(server, feed.id),
        transcoded: status?.video?.transcoded ?? null,
        state: status?.state ?? 'unknown',
      };
    });
    const pct = (micros: number) => round1(micros / 1e4 / used.seconds);
    const workerMicros = used.workerCpuMicros.reduce((sum, micros) => sum + micros, 0);
    return {
      feeds: feeds.length,
      protocol,
      cpu_pct_per_feed: round1(pct(workerMicros + ffmpeg.micros) / feeds.length),
      added_latency_ms_p50: percentileTenths(allLatencies, 50),
      added_latency_ms_p95: percentileTenths(allLatencies, 95),
      added_latency_ms_max: percentileTenths(allLatencies, 100),
      transcoded_video: perFeed.some((feed) => feed.transcoded === true),
      frames_decoded: framesDecoded.reduce((sum, frames) => sum + frames, 0),
      frames_decoded_per_feed: framesDecoded,
      wall_video_consumers: wallVideoConsumers(server),
      window_s: round1(used.seconds),
      worker_cpu_pct: used.workerCpuMicros.map(pct),
      ingest_ffmpeg_cpu_pct: pct(ffmpeg.micros),
      ingest_ffmpeg_processes: ffmpeg.processes,
      node_cpu_pct: pct(used.processCpuMicros),
      cpu_pct_per_feed_with_node: round1(pct(workerMicros + ffmpeg.micros + used.processCpuMicros) / feeds.length),
      publisher_chromium_cpu_pct: publisherPid ? pct(publisherUsed.micros) : null,
      wall_chromium_cpu_pct: pct(wallUsed.micros),
      host_cpu_pct: round1(used.hostBusyPct),
      host_steal_pct: round1(used.hostStealPct),
      latency_method:
        protocol === 'rtmp'
          ? 'per video frame: first RTP packet at a plain consumer of the SFU minus the Node publisher writing its FLV tag (RTP ts = base + FLV ms × 90, anchored on the first frame)'
          : "per video frame: first RTP packet at a plain consumer of the SFU minus Chromium's encoded-frame transform seeing it leave the encoder (same RTP timestamp; page clock aligned to ours)",
      per_feed: perFeed,
    };
  } finally {
    log('tearing down');
    await teardown(run);
  }
}
