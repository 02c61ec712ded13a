// MeetingRecording with real producers fed by ffmpeg: per-track files without transcoding, the
// composite, and stopping when the disk runs low.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveFfmpegCount, Sfu, type mediasoupTypes as ms } from '@cityconf/sfu';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MeetingRecording, readManifest, recordingDurationMs, type TrackEntry } from '@cityconf/recordings';
import { testSfuConfig } from '../../sfu/test/config.js';
import { syntheticFeeds, type SyntheticCodec, type SyntheticFeeds } from './feeds.mjs';
import { probe } from './probe.js';

const config = testSfuConfig(48000);
const listenIp = config.listenIps[0]!;
const logger = pino({ level: process.env.RECORDING_LOG ?? 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (track: TrackEntry) => (Date.parse(track.endedAt!) - Date.parse(track.startedAt)) / 1000;

let sfu: Sfu;
let root: string;
let router: ms.Router;
let feeds: SyntheticFeeds | undefined;

beforeEach(async () => {
  sfu = await Sfu.create(config, logger);
  router = (await sfu.openMeeting('m1')).router;
  root = await mkdtemp(join(tmpdir(), 'recordings-test-'));
});

afterEach(async () => {
  await feeds?.stop();
  feeds = undefined;
  sfu.close();
  await rm(root, { recursive: true, force: true });
  expect(liveFfmpegCount()).toBe(0);
});

async function feed(codecs: SyntheticCodec[]): Promise<ms.Producer[]> {
  feeds = await syntheticFeeds(router, listenIp, codecs, logger);
  return feeds.producers;
}

it('records each track without transcoding, a camera again in a new file, and composites the meeting', async () => {
  const [cameraA, micA, cameraB, micB] = await feed(['vp8', 'opus', 'h264', 'opus']);
  const recording = await MeetingRecording.start({ root, meetingId: 'm1', title: '周例会', router, listenIp, logger });
  const events: string[] = [];
  recording.on('trackstarted', (track) => events.push(`started ${track.id}`));
  recording.on('stopped', (reason) => events.push(`stopped ${reason}`));
  const composite = new Promise((resolve) => recording.once('composite', resolve));
  const unitA = { participantId: 'a', name: '东城区', source: 'camera' as const };
  const unitB = { participantId: 'b', name: '西城区应急管理局', source: 'camera' as const };
  recording.setSpeaker('a');
  await Promise.all([
    recording.addTrack(cameraA!, unitA),
    recording.addTrack(micA!, { ...unitA, source: 'microphone' }),
    recording.addTrack(cameraB!, unitB),
    recording.addTrack(micB!, { ...unitB, source: 'microphone' }),
  ]);
  await sleep(3000);
  await recording.removeTrack(cameraA!.id); // camera off…
  await sleep(1000);
  recording.setSpeaker('b');
  await sleep(1000);
  await recording.addTrack(cameraA!, unitA); // …and on again
  await sleep(3000);
  const manifest = await recording.stop();

  expect(manifest).toEqual(await readManifest(recording.dir));
  expect(manifest.status).toBe('complete');
  expect(manifest.title).toBe('周例会');
  expect(manifest.timeline.map(({ kind, participantId }) => [kind, participantId])).toEqual([['speaker', 'a'], ['speaker', 'b']]);
  expect(manifest.timeline[1]!.offsetMs).toBeGreaterThan(3500);
  expect(events.filter((event) => event.startsWith('started'))).toHaveLength(5);
  expect(events.at(-1)).toBe('stopped requested');
  expect(await composite).toMatchObject({ ok: true });

  const tracks = manifest.tracks.map((track) => `${track.participantId} ${track.source} ${track.codec} ${track.file.split('.')[1]}`);
  expect(tracks.sort()).toEqual(['a camera vp8 webm', 'a camera vp8 webm', 'a microphone opus webm', 'b camera h264 mkv', 'b microphone opus webm']);
  for (const track of manifest.tracks) {
    const file = await probe(join(recording.dir, track.file));
    expect(file.codecs, track.file).toEqual([track.codec]);
    expect(Math.abs(file.duration - seconds(track)), track.file).toBeLessThanOrEqual(1);
    expect(track.error).toBeUndefined();
  }
  const recorded = recordingDurationMs(manifest) / 1000;
  expect(recorded).toBeGreaterThan(8);
  expect(manifest.composite).toMatchObject({ file: 'composite.mp4' });
  expect(manifest.composite!.cpuSeconds).toBeGreaterThan(0);
  const mp4 = await probe(join(recording.dir, 'composite.mp4'));
  expect(mp4.codecs).toEqual(['aac', 'h264']);
  expect(Math.abs(mp4.duration - recorded)).toBeLessThanOrEqual(1);
  expect((await readdir(recording.dir)).sort()).toEqual(['composite.mp4', 'manifest.json', ...manifest.tracks.map((track) => track.file)].sort());
});

it('refuses to start when the disk is already short of space', async () => {
  const start = MeetingRecording.start({ root, meetingId: 'm1', router, listenIp, logger, disk: { minFreeBytes: Number.MAX_SAFE_INTEGER } });
  await expect(start).rejects.toMatchObject({ code: 'DISK_FULL', message: expect.stringMatching(/bytes free/) });
  expect(await readdir(root)).toEqual([]);
});

it('stops with playable files, and no composite, when the disk runs low while recording', async () => {
  const [camera, mic] = await feed(['vp8', 'opus']);
  let free = 10e9;
  const recording = await MeetingRecording.start({
    root,
    meetingId: 'm1',
    router,
    listenIp,
    logger,
    disk: { minFreeBytes: 1e9, intervalMs: 100, freeBytes: async () => free },
  });
  const unit = { participantId: 'a', name: '东城区', source: 'camera' as const };
  await recording.addTrack(camera!, unit);
  await recording.addTrack(mic!, { ...unit, source: 'microphone' });
  await sleep(2500);
  const stopped = new Promise((resolve) => recording.once('stopped', resolve));
  free = 5e8;
  expect(await stopped).toBe('disk-full');
  const manifest = await recording.stop();
  expect(manifest.status).toBe('stopped-disk-full');
  expect(manifest.composite).toBeUndefined();
  expect(manifest.error).toMatch(/disk/);
  for (const track of manifest.tracks) {
    expect(track.endedAt).toBeDefined();
    expect((await probe(join(recording.dir, track.file))).duration).toBeGreaterThan(1.5);
  }
  expect(() => recording.setSpeaker('a')).not.toThrow();
  await expect(recording.addTrack(camera!, unit)).rejects.toMatchObject({ code: 'INVALID_STATE' });
});
