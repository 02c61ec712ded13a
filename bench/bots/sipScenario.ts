// The `sip` benchmark scenario: one meeting on the real server in this process, a speaker in it
// (camera and microphone on a plain transport), and N room terminals dialling its 会议号 over SIP
// (one SipUserAgent, one call each). Every terminal sends 720p25 H.264 and G.711 A-law and receives
// the meeting's picture (the speaker, re-encoded by libx264) and mix-minus (the speaker, in
// A-law). The media of the terminals and the speaker, and the receiving end of plain consumers
// of the legs' producers, run in a separate load process (sipLoad.ts), so that this process's CPU
// is the server's. See BENCHMARKS.md, "SIP legs".
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createOffer, readAnswer, SipUserAgent, type SipCall } from '@cityconf/cascade';
import { pino } from 'pino';
import { liveFfmpegCount, type mediasoupTypes as ms, type Participant } from '@cityconf/sfu';
import { DEV_OPERATOR_API_KEY } from '../../signaling/src/config.js';
import type { ParticipantInfo } from '../../signaling/src/protocol.js';
import { startServer, type RunningServer } from '../../signaling/src/server.js';
import { loadClip, type ClipSpec } from './mediaClips.js';
import { percentile, round1, sleep, until } from './meetingScenario.js';
import { childPids, commandLine, GroupCpuWindow } from './processTree.js';
import { UsageWindow } from './resourceUsage.js';
import { epochMs } from './RtmpDronePublisher.js';
import type { LegReport, LoadClips, LoadReport } from './sipLoad.js';
import { SipLoadProcess } from './sipLoadProcess.js';

export interface SipScenarioOptions {
  legs: number;
  /** Length of the measured window, after the warm-up. */
  durationSeconds: number;
  /** Seconds measured with the speaker alone, before any call: the baseline subtracted per leg. */
  baselineSeconds: number;
  /** Seconds between the last leg joining and the measured window. */
  warmUpSeconds: number;
  numWorkers: number;
  /** Calls set up at once. */
  callConcurrency: number;
  /** The server's log level (its JSON lines go to stdout, which the CLI sends to stderr). */
  logLevel: string;
  log: (message: string) => void;
}

export const DEFAULT_SIP_OPTIONS: SipScenarioOptions = {
  legs: 20,
  durationSeconds: 30,
  baselineSeconds: 5,
  warmUpSeconds: 8,
  numWorkers: 2,
  callConcurrency: 4,
  logLevel: 'silent',
  log: () => undefined,
};

const CLIP_SECONDS = 10;
const VIDEO = { width: 1280, height: 720, fps: 25, kbps: 1200, keyFrameIntervalS: 2 };
const TONE_INTERVAL_S = 2;
const LEG_TIMEOUT_MS = 30_000;

/** What a room terminal sends (and the speaker's camera): 720p25 H.264 Constrained Baseline, a key frame every 2 s. */
const VIDEO_SPEC: ClipSpec = {
  kind: 'video',
  videoCodec: 'h264',
  clockRate: 90000,
  frameTs: 90000 / VIDEO.fps,
  args: ['-f', 'lavfi', '-i', `testsrc2=size=${VIDEO.width}x${VIDEO.height}:rate=${VIDEO.fps}`, '-t', `${CLIP_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-b:v', `${VIDEO.kbps}k`, '-maxrate', `${VIDEO.kbps}k`, '-bufsize', `${VIDEO.kbps / 2}k`,
    '-g', `${VIDEO.fps * VIDEO.keyFrameIntervalS}`, '-keyint_min', `${VIDEO.fps * VIDEO.keyFrameIntervalS}`, '-sc_threshold', '0'],
};

/** A terminal's microphone: G.711 A-law, 20 ms packets (160 bytes). */
const TERMINAL_AUDIO_SPEC: ClipSpec = {
  kind: 'audio',
  clockRate: 8000,
  frameTs: 160,
  args: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-t', `${CLIP_SECONDS}`, '-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1', '-packetsize', '172'],
};

/** The speaker's microphone: Opus, a 1 kHz tone for 0.5 s every 2 s (its onsets time the mix-minus). */
const SPEAKER_AUDIO_SPEC: ClipSpec = {
  kind: 'audio',
  clockRate: 48000,
  frameTs: 960,
  args: ['-f', 'lavfi', '-i', `aevalsrc=exprs=if(lt(mod(t\\,${TONE_INTERVAL_S})\\,0.5)\\,0.5*sin(2*PI*1000*t)\\,0):s=48000`, '-t', `${CLIP_SECONDS}`,
    '-ac', '2', '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-application', 'voip'],
};

const SPEAKER_PT = { audio: 100, video: 102 };
const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** The processes a leg costs, told apart by their command lines (cascade/src/media). */
type FfmpegKind = 'inbound' | 'video_out' | 'video_black' | 'audio_out' | 'other';
const FFMPEG_KINDS: FfmpegKind[] = ['inbound', 'video_out', 'video_black', 'audio_out', 'other'];

function ffmpegKind(command: string): FfmpegKind | undefined {
  if (!/ffmpeg/.test(command.split(' ')[0] ?? '')) return undefined;
  if (command.includes('amix=')) return 'audio_out';
  if (command.includes('color=c=black')) return 'video_black';
  if (command.includes('libx264')) return 'video_out';
  if (command.includes('-c:v copy')) return 'inbound';
  return 'other';
}

/** CPU of this process, the workers and each kind of ffmpeg over a window. */
class CpuWindow {
  private readonly usage: UsageWindow;
  private readonly ffmpeg: Map<FfmpegKind, GroupCpuWindow>;
  private readonly load: GroupCpuWindow;

  constructor(workerPids: number[], loadPid: number) {
    this.usage = new UsageWindow(workerPids);
    this.ffmpeg = new Map(FFMPEG_KINDS.map((kind) => [kind, new GroupCpuWindow(() => childPids().filter((pid) => ffmpegKind(commandLine(pid)) === kind))]));
    this.load = new GroupCpuWindow(() => [loadPid]);
  }

  end() {
    const used = this.usage.end();
    const pct = (micros: number) => round1(micros / 1e4 / used.seconds);
    const ffmpeg = Object.fromEntries([...this.ffmpeg].map(([kind, window]) => [kind, window.end()])) as Record<FfmpegKind, { micros: number; processes: number }>;
    const workerMicros = used.workerCpuMicros.reduce((sum, micros) => sum + micros, 0);
    const ffmpegMicros = FFMPEG_KINDS.reduce((sum, kind) => sum + ffmpeg[kind].micros, 0);
    return {
      seconds: used.seconds,
      total: pct(used.processCpuMicros + workerMicros + ffmpegMicros),
      byKind: {
        node: pct(used.processCpuMicros),
        worker: pct(workerMicros),
        ...Object.fromEntries(FFMPEG_KINDS.map((kind) => [`ffmpeg_${kind}`, pct(ffmpeg[kind].micros)])),
      },
      workers: used.workerCpuMicros.map(pct),
      ffmpegProcesses: Object.fromEntries(FFMPEG_KINDS.map((kind) => [kind, ffmpeg[kind].processes])),
      load: pct(this.load.end().micros),
      host: round1(used.hostBusyPct),
      steal: round1(used.hostStealPct),
    };
  }
}

/** A percentile to 0.1 ms. */
function percentileTenths(values: number[], p: number): number | null {
  const tenths = percentile(values.map((value) => value * 10), p);
  return tenths === null ? null : tenths / 10;
}

const pctOf = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1e4) / 100 : 0);

async function operatorApi<T>(server: RunningServer, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function machine(): string {
  const cores = cpus();
  return `${cores[0]?.model.trim() ?? 'unknown CPU'} × ${cores.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}`;
}

/** Everything one run owns; closed in teardown(). */
interface Run {
  server: RunningServer;
  dataDir: string;
  load?: SipLoadProcess;
  ua?: SipUserAgent;
  calls: SipCall[];
  transports: ms.PlainTransport[];
}

/** The speaker: a participant of the meeting with a microphone (audio level extension) and a camera on one plain transport. */
async function addSpeaker(run: Run, meetingId: string): Promise<void> {
  const meeting = await run.server.sfu.openMeeting(meetingId);
  const speaker = meeting.addParticipant('bench-speaker');
  const send = await speaker.createPlainTransport('send');
  const ssrc = { audio: 0x5e000001, video: 0x5e000002 };
  await speaker.produce({
    transportId: send.id,
    kind: 'audio',
    source: 'microphone',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: SPEAKER_PT.audio, clockRate: 48000, channels: 2 }],
      headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: 1 }],
      encodings: [{ ssrc: ssrc.audio }],
      rtcp: { cname: 'bench-speaker' },
    },
  });
  await speaker.produce({
    transportId: send.id,
    kind: 'video',
    source: 'camera',
    rtpParameters: {
      codecs: [{
        mimeType: 'video/H264', payloadType: SPEAKER_PT.video, clockRate: 90000,
        parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
        rtcpFeedback: [{ type: 'nack', parameter: 'pli' }],
      }],
      encodings: [{ ssrc: ssrc.video }],
      rtcp: { cname: 'bench-speaker' },
    },
  });
  run.load!.send({
    type: 'speaker',
    audio: { ip: send.ip, port: send.port, ssrc: ssrc.audio, payloadType: SPEAKER_PT.audio, audioLevel: true },
    video: { ip: send.ip, port: send.port, ssrc: ssrc.video, payloadType: SPEAKER_PT.video },
  });
}

/** Leg `index` dials the meeting number; its media start as soon as the call is answered. */
async function dial(run: Run, index: number, meetingNumber: number): Promise<void> {
  const { port } = run.server.sip!.local('udp');
  const ports = run.load!.ready.legs[index]!;
  const offer = createOffer({
    address: '127.0.0.1',
    audio: { port: ports.audioPort, codecs: ['PCMA'] },
    video: { port: ports.videoPort, h264ProfileLevelIds: ['42e01f'] },
  });
  const user = terminalUser(index);
  const call = await run.ua!.invite(`sip:${meetingNumber}@127.0.0.1:${port}`, offer.sdp, { from: `sip:${user}@127.0.0.1`, displayName: `${index + 1}号会议室终端` });
  run.calls[index] = call;
  const negotiation = readAnswer(offer, call.remoteSdp ?? '');
  const { audio, video } = negotiation;
  if (!audio || !video) throw new Error(`leg ${index}: the server took ${audio ? 'no video' : 'no audio'}`);
  call.on('keyframeRequest', () => run.load!.send({ type: 'keyFrame', leg: index }));
  run.load!.send({
    type: 'call',
    leg: index,
    video: { ip: video.remote.address, port: video.remote.port, ssrc: 0x7e000000 + 2 * index, payloadType: video.payloadType },
    audio: { ip: audio.remote.address, port: audio.remote.port, ssrc: 0x7e000001 + 2 * index, payloadType: audio.payloadType },
  });
}

const terminalUser = (index: number) => `terminal-${String(index + 1).padStart(2, '0')}`;

/** Runs `task` for 0..count-1, at most `concurrency` at a time. */
async function inBatches(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

/** Plain consumers of each leg's video and audio producers, sending to the load process. */
async function consumeLegs(run: Run, legParticipants: Participant[]): Promise<void> {
  for (const [index, participant] of legParticipants.entries()) {
    const router = await participant.mediaRouter();
    const transport = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    run.transports.push(transport);
    await transport.connect({ ip: '127.0.0.1', port: run.load!.ready.consumerPort });
    for (const producer of participant.producers.values()) {
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
      run.load!.send({ type: 'consume', leg: index, kind: producer.kind, ssrc: consumer.rtpParameters.encodings![0]!.ssrc! });
    }
  }
}

/** The legs' participants in leg order, once each has its video and audio producer. */
async function legParticipants(run: Run, meetingId: string, legs: number): Promise<Participant[]> {
  const meeting = run.server.sfu.meeting(meetingId)!;
  const ready = async () => {
    const { participants } = await operatorApi<{ participants: ParticipantInfo[] }>(run.server, 'GET', `/api/meetings/${meetingId}`);
    return Array.from({ length: legs }, (_, index) => {
      const info = participants.find((participant) => participant.unitId === `sip:${terminalUser(index)}`);
      const participant = info ? meeting.participants.get(info.id) : undefined;
      return participant && participant.producers.size >= 2 ? participant : undefined;
    });
  };
  let found: (Participant | undefined)[] = [];
  const deadline = Date.now() + LEG_TIMEOUT_MS;
  while (Date.now() < deadline) {
    found = await ready();
    if (found.every(Boolean)) break;
    await sleep(250);
  }
  const missing = found.flatMap((participant, index) => (participant ? [] : [index]));
  if (missing.length > 0) throw new Error(`legs ${missing.join(', ')} did not join with video and audio in ${LEG_TIMEOUT_MS / 1000} s`);
  return found as Participant[];
}

/**
 * The terminals hang up first (as at the end of a meeting), then the server stops. A leg stops its
 * ffmpegs after it ends, without anyone waiting (SipLeg.end), so their exit is awaited here.
 */
async function teardown(run: Run): Promise<void> {
  await run.ua?.close().catch(() => undefined);
  await until(() => (run.server.sip?.legCount ?? 0) === 0, 5_000);
  await run.load?.stop().catch(() => undefined);
  for (const transport of run.transports) transport.close();
  await run.server.close();
  await until(() => liveFfmpegCount() === 0, 10_000);
  rmSync(run.dataDir, { recursive: true, force: true });
}

function summarize(report: LoadReport, seconds: number) {
  const legs = report.legs;
  const sum = (pick: (leg: LegReport) => number) => legs.reduce((total, leg) => total + pick(leg), 0);
  const all = (pick: (leg: LegReport) => number[]) => legs.flatMap(pick);
  const inLatencies = all((leg) => leg.inLatenciesMs);
  const outVideo = all((leg) => leg.outVideoLatenciesMs);
  const outAudio = all((leg) => leg.outAudioLatenciesMs);
  const lossOf = (pick: (leg: LegReport) => { received: number; lost: number }) => {
    const lost = sum((leg) => pick(leg).lost);
    return pctOf(lost, lost + sum((leg) => pick(leg).received));
  };
  const framesSent = sum((leg) => leg.inFramesSent);
  const lossIn = {
    video_packets: lossOf((leg) => leg.inVideoPackets),
    audio_packets: lossOf((leg) => leg.inAudioPackets),
    video_frames_missing: pctOf(framesSent - sum((leg) => leg.inFramesArrived), framesSent),
  };
  const lossOut = { video_packets: lossOf((leg) => leg.outVideoPackets), audio_packets: lossOf((leg) => leg.outAudioPackets) };
  const perLeg = (value: number) => round1(value / Math.max(1, legs.length) / seconds);
  return {
    lossIn,
    lossOut,
    latency: {
      added_latency_ms_in: percentileTenths(inLatencies, 50),
      added_latency_ms_in_p95: percentileTenths(inLatencies, 95),
      added_latency_ms_in_max: percentileTenths(inLatencies, 100),
      added_latency_ms_out: percentileTenths(outVideo, 50),
      added_latency_ms_out_p95: percentileTenths(outVideo, 95),
      added_latency_ms_out_max: percentileTenths(outVideo, 100),
      added_latency_ms_out_audio: percentileTenths(outAudio, 50),
      added_latency_ms_out_audio_p95: percentileTenths(outAudio, 95),
      added_latency_ms_out_audio_min: outAudio.length > 0 ? round1(Math.min(...outAudio)) : null,
      added_latency_ms_out_audio_max: percentileTenths(outAudio, 100),
    },
    samples: {
      in_video_frames_timed: inLatencies.length,
      in_video_frames_sent: framesSent,
      in_video_frames_unmatched: sum((leg) => leg.inFramesUnmatched),
      out_video_key_frames: sum((leg) => leg.outKeyFrames),
      out_video_key_frames_timed: outVideo.length,
      speaker_key_frames_sent: report.speakerKeyFramesSent,
      out_audio_onsets_timed: outAudio.length,
      speaker_tones_sent: report.speakerTonesSent,
      key_frame_requests_to_terminals: report.keyFrameRequests,
    },
    rates: {
      fps_in_per_leg: perLeg(sum((leg) => leg.inFramesArrived)),
      fps_out_per_leg: perLeg(sum((leg) => leg.outVideoFrames)),
      audio_pps_in_per_leg: perLeg(sum((leg) => leg.inAudioPackets.received)),
      audio_pps_out_per_leg: perLeg(sum((leg) => leg.outAudioPackets.received)),
    },
    perLeg: legs.map((leg) => ({
      in_p50: percentileTenths(leg.inLatenciesMs, 50),
      out_p50: percentileTenths(leg.outVideoLatenciesMs, 50),
      out_audio_ms: leg.outAudioLatenciesMs.map(round1),
      fps_out: round1(leg.outVideoFrames / seconds),
      fps_in: round1(leg.inFramesArrived / seconds),
    })),
  };
}

export async function runSipScenario(overrides: Partial<SipScenarioOptions> = {}) {
  const options = { ...DEFAULT_SIP_OPTIONS, ...overrides };
  const { log, legs } = options;
  if (!Number.isInteger(legs) || legs < 1) throw new RangeError(`legs: a positive integer, not ${legs}`);
  const clips: LoadClips = {
    terminalVideo: await loadClip(VIDEO_SPEC),
    terminalAudio: await loadClip(TERMINAL_AUDIO_SPEC),
    speakerVideo: await loadClip(VIDEO_SPEC),
    speakerAudio: await loadClip(SPEAKER_AUDIO_SPEC),
    toneIntervalS: TONE_INTERVAL_S,
    keyFrameIntervalS: VIDEO.keyFrameIntervalS,
  };
  const pcmaBytes = clips.terminalAudio.packets[0]!.payload.length;
  if (pcmaBytes !== 160) throw new Error(`the A-law clip has ${pcmaBytes}-byte packets, not 160 (20 ms)`);

  const dataDir = mkdtempSync(join(tmpdir(), 'cityconf-bench-sip-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, rtmpPort: 0, sip: { port: 0 }, logLevel: options.logLevel, dataDir, sfu: { numWorkers: options.numWorkers } });
  const run: Run = { server, dataDir, calls: [], transports: [] };
  try {
    run.load = await SipLoadProcess.start(legs, clips);
    const meeting = await operatorApi<{ id: string; number: number }>(server, 'POST', '/api/meetings', { title: 'SIP 终端基准会议' });
    await addSpeaker(run, meeting.id);
    const workerPids = server.sfu.pool.workers.map((worker) => worker.pid);
    log(`speaker producing; baseline for ${options.baselineSeconds} s`);
    await sleep(2_000);
    const baselineWindow = new CpuWindow(workerPids, run.load.pid);
    await sleep(options.baselineSeconds * 1000);
    const baseline = baselineWindow.end();

    log(`dialling ${legs} legs into meeting ${meeting.number}`);
    run.ua = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], logger: pino({ level: 'silent' }) });
    const dialStarted = performance.now();
    await inBatches(legs, options.callConcurrency, (index) => dial(run, index, meeting.number));
    const participants = await legParticipants(run, meeting.id, legs);
    const setupSeconds = round1((performance.now() - dialStarted) / 1000);
    await consumeLegs(run, participants);
    log(`${legs} legs joined in ${setupSeconds} s; measuring after ${options.warmUpSeconds} s for ${options.durationSeconds} s`);
    await sleep(options.warmUpSeconds * 1000);

    run.load.send({ type: 'windowStart' });
    const window = new CpuWindow(workerPids, run.load.pid);
    const from = epochMs();
    await sleep(options.durationSeconds * 1000);
    const to = epochMs();
    const cpu = window.end();
    run.load.send({ type: 'windowEnd' });
    await sleep(1_000); // frames sent at the window's end may still be on their way
    const report = await run.load.report(from, to);
    const sfuMeeting = server.sfu.meeting(meeting.id);
    const dropped = participants.flatMap((participant, index) => {
      if (sfuMeeting?.participants.get(participant.id) !== participant) return [{ leg: index, why: 'its participant left the meeting' }];
      const call = run.calls[index];
      return call?.ended ? [{ leg: index, why: `call ended: ${call.endReason}` }] : [];
    });
    const legsConnected = legs - dropped.length;
    const summary = summarize(report, cpu.seconds);
    const connected = Math.max(1, legsConnected);
    return {
      legs,
      legs_connected: legsConnected,
      legs_dropped: dropped,
      duration_s: round1(cpu.seconds),
      machine: machine(),
      cpu_pct_per_leg: round1((cpu.total - baseline.total) / connected),
      cpu_method:
        '(this process [signaling, SIP, the RTP relays] + mediasoup workers + every ffmpeg child, % of one core over the window) minus the same over a baseline window with the speaker alone and no calls, divided by legs_connected; the load generator (terminals, speaker, consumers) is a separate process, not counted',
      cpu_pct_total: cpu.total,
      cpu_pct_baseline: baseline.total,
      cpu_pct_by_kind: cpu.byKind,
      cpu_pct_per_leg_by_kind: Object.fromEntries(
        Object.entries(cpu.byKind).map(([kind, pct]) => [kind, round1((pct - (baseline.byKind as Record<string, number>)[kind]!) / connected)]),
      ),
      worker_cpu_pct: cpu.workers,
      ffmpeg_processes: cpu.ffmpegProcesses,
      load_generator_cpu_pct: cpu.load,
      host_cpu_pct: cpu.host,
      host_steal_pct: cpu.steal,
      /** Everything else on the machine over the window (other jobs), % of one core: a busy host slows every leg. */
      other_processes_cpu_pct: round1((cpu.host * cpus().length) - cpu.total - cpu.load),
      ...summary.latency,
      added_latency_in_method:
        "video only: a frame's first RTP packet at a plain consumer of the leg's video producer minus the terminal sending that frame's first packet; frames matched by the first 64 bytes of their first slice NAL unit (H.264 is copied, not re-encoded). Audio in (A-law to Opus) is not timed",
      added_latency_out_method:
        "video: each IDR the terminal receives minus the latest key frame the speaker's camera sent (the leg's encoder runs -force_key_frames source, and the speaker's GOP of 2 s is shorter than the encoder's own); audio: the A-law packet in which the terminal hears an onset of the speaker's 1 kHz tone (decoded) arriving, minus the speaker sending the Opus packet where the tone starts",
      loss_pct: Math.max(...Object.values(summary.lossIn), ...Object.values(summary.lossOut)),
      loss_pct_in: summary.lossIn,
      loss_pct_out: summary.lossOut,
      loss_method:
        'RTP sequence gaps over the window at the consumers (in) and the terminals (out); in: also video frames the terminals sent that never reached the consumer (ffmpeg renumbers packets, so loss before it shows as missing frames). loss_pct is the largest',
      ...summary.rates,
      ...summary.samples,
      video_in: `H.264 Constrained Baseline (42e01f) ${VIDEO.width}x${VIDEO.height} ${VIDEO.fps} fps ${VIDEO.kbps} kbit/s, GOP ${VIDEO.keyFrameIntervalS} s, copied into the meeting`,
      audio_in: 'PCMA 8 kHz, 20 ms packets, transcoded to Opus 48 kHz',
      video_out: `H.264 re-encoded by libx264 (ultrafast, zerolatency) at 1280x720 from the speaker's camera (the terminals' clip); ${cpu.ffmpegProcesses.video_out} encoder(s) and ${cpu.ffmpegProcesses.video_black} black-picture encoder(s) ran for ${legsConnected} legs`,
      audio_out: "PCMA 8 kHz, 20 ms packets: the mix-minus (the speaker's Opus, decoded and mixed by amix)",
      setup_s: setupSeconds,
      per_leg: summary.perLeg,
    };
  } finally {
    log('tearing down');
    await teardown(run);
  }
}
