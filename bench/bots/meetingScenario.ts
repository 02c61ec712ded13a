// The `meeting` load scenario: N simulated units (bots) in one meeting with the real server in this
// process. A main venue (the chair) speaks throughout; the chair roll-calls one other unit at a time
// (rollCall → controlChanged), and that unit speaks until the next call. In last-N mode every unit
// consumes the main venue's and the called unit's camera and microphone, and a few gallery viewers
// also consume a page of other units' cameras; in naive mode every unit consumes everyone.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../signaling/src/auth/tokens.js';
import { startServer, type RunningServer } from '../../signaling/src/server.js';
import { Bot, type ConsumePolicy } from './Bot.js';
import { ChromiumUnits } from './chromiumUnits.js';
import { loadMediaClips } from './mediaClips.js';
import { ROOM_NOISE_LEVEL, RtpPacer } from './RtpPacer.js';
import { RtpReceiver, type StreamCounter } from './RtpReceiver.js';
import { ConsumerCounts, processRssMiB, UsageWindow } from './resourceUsage.js';

export interface MeetingScenarioOptions {
  units: number;
  /** The main venue plus (speakers − 1) roll-called unit: 1 or 2. */
  speakers: number;
  /** Units that also consume `gallerySize` other units' cameras (those units send video). */
  galleryViewers: number;
  gallerySize: number;
  /** Length of the measured window, after everyone has joined. */
  durationSeconds: number;
  /** Seconds between roll calls. */
  switchSeconds: number;
  /** Every unit consumes every other unit's camera and microphone; every camera sends. */
  naive: boolean;
  /** Real Chromium participants (the built web client, receive-only) beside the bots. */
  chromium: number;
  /** Misbehaving units, cycling through: silent (never sends), garbage RTP, vanishing without leave. */
  badBots: number;
  /** Bots sharing one receiving UDP socket (1: a socket each). */
  botsPerSocket: number;
  /** Bots joining at the same time. */
  joinConcurrency: number;
  numWorkers: number;
  /** Shortens socket.io's heartbeat (interval + timeout) so vanished bots are dropped sooner. */
  heartbeatMs?: { interval: number; timeout: number };
  log: (message: string) => void;
}

export const DEFAULT_MEETING_OPTIONS: MeetingScenarioOptions = {
  units: 550,
  speakers: 2,
  galleryViewers: 6,
  gallerySize: 25,
  durationSeconds: 60,
  switchSeconds: 10,
  naive: false,
  chromium: 2,
  badBots: 0,
  botsPerSocket: 1,
  joinConcurrency: 10,
  numWorkers: availableParallelism(),
  log: () => undefined,
};

const ROOM = 'bench-meeting';
const MAIN_VENUE = 'main-venue';
/** −dBov while talking (the main venue's microphone stays open but quiet once the roll call starts). */
const TALK_LEVEL = 20;
const ROSTER_TIMEOUT_MS = 120_000;
const GARBAGE_INTERVAL_MS = 20;
/** A speaker must have been on this long before the end to count in the "everyone received it" check. */
const SPEAKER_CHECK_MS = 3_000;
const BAD_KINDS = ['silent', 'garbage', 'vanish'] as const;
type BadKind = (typeof BAD_KINDS)[number];

export interface MeetingResult {
  mode: 'lastn' | 'naive';
  units: number;
  units_joined: number;
  workers: number;
  join_p50_ms: number;
  join_p95_ms: number;
  join_max_ms: number;
  roster_converged_ms: number | null;
  window_s: number;
  worker_cpu_pct: number[];
  /** Live consumers on each worker at the end of the window, pipe consumers included. */
  consumers_per_worker: number[];
  worker_rss_mib: number[];
  /** This process: signaling server + bots (the workers are separate processes). */
  node_cpu_pct: number;
  /** The whole machine, all cores (100 = every core busy): workers, this process, Chromium. */
  host_cpu_pct: number;
  /** CPU the hypervisor gave to other VMs (same scale): high values make every other figure noisy. */
  host_steal_pct: number;
  /** Datagrams the kernel dropped in the window for full receive buffers: the bots' sockets, the SFU's. */
  udp_drops_bots: number;
  udp_drops_sfu: number;
  pps_in: number;
  pps_out: number;
  fanout_ratio: number;
  loss_pct: number;
  speaker_switches: number;
  speaker_switch_ms: number | null;
  speaker_switch_p95_ms: number | null;
  speaker_switch_audio_p50_ms: number | null;
  speaker_switch_video_p50_ms: number | null;
  active_speaker_event_ms: number | null;
  bots_missing_speaker_media: number;
  audio_selection: string;
  chromium_frames_decoded: number[];
  worker_us_per_packet: number | null;
  bad_bots: number;
  bad_bots_gone_ms: number | null;
  request_errors: number;
  unknown_ssrc_packets: number;
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

export const round1 = (value: number): number => Math.round(value * 10) / 10;
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Who is who: unit 0 is the main venue, then the gallery senders; the bad bots are the last units. */
class Cast {
  readonly gallerySenders: Set<number>;
  readonly galleryViewers: Set<number>;
  readonly bad = new Map<number, BadKind>();
  /** Units roll-called in turn. */
  readonly callOrder: number[];

  constructor(readonly options: MeetingScenarioOptions) {
    const { units, galleryViewers, gallerySize, badBots } = options;
    for (let i = 0; i < badBots; i++) this.bad.set(units - 1 - i, BAD_KINDS[i % BAD_KINDS.length]!);
    // Half the good units at most, so that small runs still have units to roll-call.
    const senders = galleryViewers > 0 ? Math.min(gallerySize, Math.floor((units - 1 - badBots) / 2)) : 0;
    this.gallerySenders = new Set(Array.from({ length: senders }, (_, i) => i + 1));
    const good = Array.from({ length: units }, (_, i) => i).filter((i) => !this.bad.has(i));
    this.galleryViewers = new Set(good.slice(-galleryViewers).filter((i) => i > senders));
    this.callOrder = good.filter((i) => i > 0 && !this.gallerySenders.has(i));
  }

  unitId(index: number): string {
    return index === 0 ? MAIN_VENUE : `unit-${index}`;
  }
}

function lastNPolicy(cast: Cast): ConsumePolicy {
  const galleryUnits = [...cast.gallerySenders].map((i) => cast.unitId(i));
  return (bot) => {
    const wanted = new Set<string>();
    const add = (unitId: string | null | undefined, sources: string[]): void => {
      const producers = unitId ? bot.participantOfUnit(unitId)?.producers : undefined;
      for (const source of sources) {
        const id = producers?.get(source);
        if (id) wanted.add(id);
      }
    };
    const mainVenue = bot.control?.mainVenueUnitId ?? MAIN_VENUE;
    const called = cast.options.speakers > 1 ? bot.control?.rollCall.currentUnitId : null;
    add(mainVenue, ['camera', 'microphone']);
    add(called, ['camera', 'microphone']);
    // Audio also from the server's last-N set (audibleSpeakers), as the protocol asks.
    for (const participantId of bot.audible ?? []) {
      const id = bot.participants.get(participantId)?.producers.get('microphone');
      if (id) wanted.add(id);
    }
    if (cast.galleryViewers.has(bot.index)) for (const unitId of galleryUnits) add(unitId, ['camera']);
    return wanted;
  };
}

const naivePolicy: ConsumePolicy = (bot) => {
  const wanted = new Set<string>();
  for (const participant of bot.participants.values()) for (const id of participant.producers.values()) wanted.add(id);
  return wanted;
};

async function joinAll(bots: Bot[], concurrency: number, log: (message: string) => void): Promise<Bot[]> {
  const joined: Bot[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bots.length) {
      const bot = bots[next++]!;
      try {
        await bot.join();
        joined.push(bot);
        if (joined.length % 50 === 0) log(`${joined.length} units joined`);
      } catch (error) {
        log(`unit ${bot.index} failed to join: ${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return joined;
}

/** A roll call: when the chair called whom (and that unit started talking). */
interface Switch {
  atMs: number;
  speaker: Bot;
}

/** For each bot and switch: ms until the first audio and video packet from the new speaker. */
function switchLatencies(switches: Switch[], counters: StreamCounter[], listeners: Set<number>, endMs: number) {
  const firstPackets = new Map<string, number[]>();
  for (const counter of counters) {
    if (counter.firstAtMs === undefined) continue;
    const key = `${counter.botIndex}/${counter.sourceParticipantId}/${counter.kind}`;
    firstPackets.set(key, [...(firstPackets.get(key) ?? []), counter.firstAtMs]);
  }
  // The first packet of a consumer made after the switch; a stream flowing already (naive mode's cameras) counts as 0.
  const after = (key: string, atMs: number): number | undefined => {
    const times = firstPackets.get(key);
    if (!times) return undefined;
    const later = times.filter((t) => t >= atMs);
    return later.length > 0 ? Math.min(...later) - atMs : 0;
  };
  const audio: number[] = [];
  const video: number[] = [];
  const both: number[] = [];
  let missing = 0;
  for (const { atMs, speaker } of switches) {
    for (const index of listeners) {
      if (index === speaker.index) continue;
      const a = after(`${index}/${speaker.selfId}/audio`, atMs);
      const v = after(`${index}/${speaker.selfId}/video`, atMs);
      if (a === undefined || v === undefined) {
        if (endMs - atMs >= SPEAKER_CHECK_MS) missing++;
        continue;
      }
      audio.push(a);
      video.push(v);
      both.push(Math.max(a, v));
    }
  }
  return { audio, video, both, missing };
}

/** Everything one run owns; closed in teardown(). */
interface Run {
  options: MeetingScenarioOptions;
  cast: Cast;
  server: RunningServer;
  dataDir: string;
  pacer: RtpPacer;
  receiver: RtpReceiver;
  bots: Bot[];
  chromium?: ChromiumUnits;
  garbageTimer?: NodeJS.Timeout;
}

async function createBots(run: Run): Promise<Bot[]> {
  const { options, cast, server, pacer, receiver } = run;
  const clips = await loadMediaClips();
  const policy = options.naive ? naivePolicy : lastNPolicy(cast);
  const bots: Bot[] = [];
  let sinkPort = 0;
  for (let index = 0; index < options.units; index++) {
    if (index % options.botsPerSocket === 0) sinkPort = await receiver.openSocket();
    const token = await mintToken(server.config.auth, {
      room: ROOM,
      identity: cast.unitId(index),
      name: index === 0 ? '主会场' : `单位${index}`,
      role: index === 0 ? 'chair' : 'participant',
    });
    const bot = new Bot({
      index,
      url: server.url,
      meetingId: ROOM,
      token,
      clips,
      pacer,
      receiver,
      sinkPort,
      policy,
      audioLevel: TALK_LEVEL,
      microphoneOpen: index === 0,
    });
    bot.expectedOthers = options.units - 1;
    bots.push(bot);
  }
  return bots;
}

async function joinChromium(run: Run): Promise<ChromiumUnits> {
  const links = await Promise.all(
    Array.from({ length: run.options.chromium }, async (_, i) => {
      // Receive-only (列席): two more camera encoders would take the CPU this benchmark measures.
      const token = await mintToken(run.server.config.auth, { room: ROOM, identity: `chromium-${i}`, name: `浏览器${i}`, canPublish: false });
      return `${run.server.url}/m/${ROOM}?${new URLSearchParams({ token, autojoin: '1' })}`;
    }),
  );
  return ChromiumUnits.join(links);
}

/**
 * Bad bots start misbehaving: garbage bots send random bytes, vanishing ones freeze their
 * connection. Resolves when the server has dropped the vanished ones (ms after they vanished).
 */
function misbehave(run: Run, joined: Bot[]): Promise<number | null> {
  const { cast, server, options, pacer } = run;
  const ofKind = (kind: BadKind): Bot[] => joined.filter((bot) => cast.bad.get(bot.index) === kind);
  const garbage = ofKind('garbage');
  if (garbage.length > 0) {
    run.garbageTimer = setInterval(() => {
      for (const bot of garbage) pacer.socket.send(randomPacket(), bot.sendTransport.port, bot.sendTransport.ip);
    }, GARBAGE_INTERVAL_MS);
  }
  const vanished = ofKind('vanish');
  if (vanished.length === 0) return Promise.resolve(null);
  for (const bot of vanished) bot.vanish();
  const vanishedAt = performance.now();
  const remaining = joined.length + options.chromium - vanished.length;
  return until(
    () => server.roster.participantCount === remaining && server.sfu.stats().participants === remaining,
    options.durationSeconds * 1000 + 60_000,
  ).then((gone) => (gone ? Math.round(performance.now() - vanishedAt) : null));
}

/** Roll calls every switchSeconds until the window ends; the called unit talks until the next call. */
async function rollCalls(run: Run, good: Bot[], windowEndMs: number): Promise<{ switches: Switch[]; errors: string[] }> {
  const { options, cast } = run;
  const switches: Switch[] = [];
  const errors: string[] = [];
  if (options.speakers < 2) return { switches, errors };
  const mainVenue = run.bots[0]!;
  const callable = good.filter((bot) => cast.callOrder.includes(bot.index));
  if (callable.length === 0) throw new Error('no unit to roll-call: add units');
  const startMs = performance.now();
  for (let call = 0; ; call++) {
    const dueMs = startMs + call * options.switchSeconds * 1000;
    if (dueMs > windowEndMs - 1000) break;
    await sleep(dueMs - performance.now());
    const speaker = callable[call % callable.length]!;
    try {
      await switches.at(-1)?.speaker.speak(false, options.naive);
      mainVenue.setMicrophoneLevel(ROOM_NOISE_LEVEL); // the called unit answers; the chair listens
      const atMs = performance.now();
      await speaker.speak(true, true);
      switches.push({ atMs, speaker });
      await mainVenue.request('rollCall', { unitId: cast.unitId(speaker.index) });
    } catch (error) {
      errors.push(String(error)); // an overloaded server answers late: the run goes on and reports it
      options.log(`roll call ${call} failed: ${String(error)}`);
    }
  }
  return { switches, errors };
}

async function teardown(run: Run): Promise<void> {
  if (run.garbageTimer) clearInterval(run.garbageTimer);
  await run.chromium?.close().catch(() => undefined);
  run.pacer.close();
  for (const bot of run.bots) if (bot.socket) bot.destroy();
  run.receiver.close();
  await run.server.close();
  rmSync(run.dataDir, { recursive: true, force: true });
}

export async function runMeetingScenario(overrides: Partial<MeetingScenarioOptions> = {}): Promise<MeetingResult> {
  const options = { ...DEFAULT_MEETING_OPTIONS, ...overrides };
  const { log } = options;
  if (options.speakers < 1 || options.speakers > 2) throw new RangeError('speakers: 1 (main venue) or 2 (main venue + the roll-called unit)');
  const dataDir = mkdtempSync(join(tmpdir(), 'cityconf-bench-meeting-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', dataDir, sfu: { numWorkers: options.numWorkers } });
  if (options.heartbeatMs) {
    server.io.engine.opts.pingInterval = options.heartbeatMs.interval;
    server.io.engine.opts.pingTimeout = options.heartbeatMs.timeout;
  }
  const run: Run = {
    options,
    cast: new Cast(options),
    server,
    dataDir,
    pacer: await RtpPacer.create(),
    receiver: new RtpReceiver(),
    bots: [],
  };
  const workers = server.sfu.pool.workers;
  const consumerCounts = new ConsumerCounts(workers);
  try {
    run.bots = await createBots(run);
    log(`joining ${options.units} units (${options.joinConcurrency} at a time)`);
    const joined = await joinAll(run.bots, options.joinConcurrency, log);
    const good = joined.filter((bot) => !run.cast.bad.has(bot.index));
    const mainVenue = run.bots[0]!;
    await mainVenue.speak(true, true);
    for (const bot of good) if (options.naive || run.cast.gallerySenders.has(bot.index)) await bot.speak(false, true);
    const converged = await until(() => joined.every((bot) => bot.rosterCompleteMs !== undefined), ROSTER_TIMEOUT_MS);
    const lastJoinReply = Math.max(...joined.map((bot) => bot.joinReplyMs));
    const rosterConvergedMs = converged ? Math.round(Math.max(...joined.map((bot) => bot.rosterCompleteMs!)) - lastJoinReply) : null;
    log(`roster ${converged ? `converged in ${rosterConvergedMs} ms` : 'did not converge'}`);
    if (options.chromium > 0) {
      log(`joining ${options.chromium} Chromium participants`);
      run.chromium = await joinChromium(run);
    }
    const vanishedGone = misbehave(run, joined);

    log(`measuring for ${options.durationSeconds} s`);
    const usageWindow = new UsageWindow(workers.map((worker) => worker.pid));
    const startSent = run.pacer.packetsSent;
    const startReceived = run.receiver.packetsReceived;
    const windowEnd = performance.now() + options.durationSeconds * 1000;
    const { switches, errors } = await rollCalls(run, good, windowEnd);
    await sleep(windowEnd - performance.now());
    const usage = usageWindow.end();
    const sent = run.pacer.packetsSent - startSent;
    const received = run.receiver.packetsReceived - startReceived;
    const consumersPerWorker = [...consumerCounts.live];
    const workerRssMiB = workers.map((worker) => processRssMiB(worker.pid));
    const speakerIds = new Set([mainVenue.selfId, ...switches.map((s) => s.speaker.selfId)]);
    const chromiumFrames = run.chromium ? await run.chromium.framesDecoded(speakerIds) : [];
    const badBotsGoneMs = await vanishedGone;
    if (badBotsGoneMs !== null) log(`vanished bots dropped after ${badBotsGoneMs} ms`);

    const listeners = new Set(good.map((bot) => bot.index));
    const latencies = switchLatencies(switches, run.receiver.counters, listeners, windowEnd);
    const goodCounters = run.receiver.counters.filter((counter) => listeners.has(counter.botIndex));
    const expected = goodCounters.reduce((sum, counter) => sum + counter.expected, 0);
    const lost = goodCounters.reduce((sum, counter) => sum + counter.lost, 0);
    const speakerEvents = switches.flatMap(({ atMs, speaker }) => {
      const event = mainVenue.activeSpeakers.find((e) => e.atMs >= atMs && e.participantId === speaker.selfId);
      return event ? [event.atMs - atMs] : [];
    });
    // Kernel drops: at the bots' receiving sockets, or at the SFU's (its transports and pipes).
    const botPorts = new Set([...run.receiver.ports, run.pacer.socket.address().port]);
    let botDrops = 0;
    let sfuDrops = 0;
    for (const [port, drops] of usage.udpDrops) {
      if (botPorts.has(port)) botDrops += drops;
      else sfuDrops += drops;
    }
    const totalWorkerMicros = usage.workerCpuMicros.reduce((sum, micros) => sum + micros, 0);
    const joinMs = joined.map((bot) => bot.joinedMs - bot.joinStartedMs);
    return {
      mode: options.naive ? 'naive' : 'lastn',
      units: options.units,
      units_joined: joined.length,
      workers: workers.length,
      join_p50_ms: percentile(joinMs, 50) ?? 0,
      join_p95_ms: percentile(joinMs, 95) ?? 0,
      join_max_ms: percentile(joinMs, 100) ?? 0,
      roster_converged_ms: rosterConvergedMs,
      window_s: round1(usage.seconds),
      worker_cpu_pct: usage.workerCpuMicros.map((micros) => round1(micros / 1e4 / usage.seconds)),
      consumers_per_worker: consumersPerWorker,
      worker_rss_mib: workerRssMiB,
      node_cpu_pct: round1(usage.processCpuMicros / 1e4 / usage.seconds),
      host_cpu_pct: round1(usage.hostBusyPct),
      host_steal_pct: round1(usage.hostStealPct),
      udp_drops_bots: botDrops,
      udp_drops_sfu: sfuDrops,
      pps_in: Math.round(sent / usage.seconds),
      pps_out: Math.round(received / usage.seconds),
      fanout_ratio: sent > 0 ? round1(received / sent) : 0,
      loss_pct: expected > 0 ? Math.round((lost / expected) * 1e4) / 100 : 0,
      speaker_switches: switches.length,
      speaker_switch_ms: percentile(latencies.both, 50),
      speaker_switch_p95_ms: percentile(latencies.both, 95),
      speaker_switch_audio_p50_ms: percentile(latencies.audio, 50),
      speaker_switch_video_p50_ms: percentile(latencies.video, 50),
      active_speaker_event_ms: percentile(speakerEvents, 50),
      bots_missing_speaker_media: latencies.missing,
      audio_selection: options.naive
        ? 'all'
        : mainVenue.audible === undefined
          ? 'main venue + roll-called unit (the server sent no audible set)'
          : "main venue + roll-called unit + the server's audible set (audibleSpeakers, audio last-N)",
      chromium_frames_decoded: chromiumFrames,
      worker_us_per_packet: received > 0 ? round1(totalWorkerMicros / received) : null,
      bad_bots: run.cast.bad.size,
      bad_bots_gone_ms: badBotsGoneMs,
      request_errors: joined.reduce((sum, bot) => sum + bot.errors.length, errors.length),
      unknown_ssrc_packets: run.receiver.unknownPackets,
    };
  } finally {
    log('tearing down');
    await teardown(run);
  }
}

/** What a garbage bot sends: random bytes, sometimes with an RTP version bit pattern. */
function randomPacket(): Buffer {
  const packet = Buffer.alloc(20 + Math.floor(Math.random() * 1000));
  for (let i = 0; i < packet.length; i++) packet[i] = Math.floor(Math.random() * 256);
  if (Math.random() < 0.5) packet[0] = 0x80;
  return packet;
}
