// A server killed outright while recording: its ffmpegs die with it (parent-death signal, SIGKILL),
// an ffmpeg killed outright too leaves a file that still plays, and recover() completes the recording.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { liveFfmpegCount } from '@cityconf/sfu';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readManifest, RecordingLibrary } from '@cityconf/recordings';
import { testSfuConfig } from '../../sfu/test/config.js';
import { pidsMentioning, probe } from './probe.js';

const logger = pino({ level: process.env.RECORDING_LOG ?? 'silent' });
const repo = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let root: string;

beforeAll(async () => {
  // The child runs plain JavaScript: it imports the packages' dist.
  await promisify(execFile)(join(repo, 'node_modules/.bin/tsc'), ['-p', 'recordings/tsconfig.json'], { cwd: repo });
  root = await mkdtemp(join(tmpdir(), 'recordings-crash-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('keeps what a killed server recorded, and recover() makes it an interrupted recording with a composite', async () => {
  const child = spawn(process.execPath, [join(repo, 'recordings/test/crash-child.mjs'), JSON.stringify(testSfuConfig(49000)), root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const [line] = await Promise.race([createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next().then(({ value }) => [value as string]), exited.then(() => [])]);
  expect(line, 'the child started recording').toBeDefined();
  const { dir, feedsPid } = JSON.parse(line!) as { dir: string; feedsPid: number };
  const recordingStarted = Date.now();
  await sleep(6000);
  const trackFfmpegs = (await pidsMentioning(dir)).sort((a, b) => a - b);
  expect(trackFfmpegs).toHaveLength(2);
  // The first track's ffmpeg is killed with the server; the other by its parent-death SIGKILL.
  process.kill(trackFfmpegs[0]!, 'SIGKILL');
  process.kill(child.pid!, 'SIGKILL');
  const recordedSeconds = (Date.now() - recordingStarted) / 1000;
  await exited;
  for (let waited = 0; (await pidsMentioning(dir)).length > 0 || running(feedsPid); waited += 100) {
    expect(waited, 'the killed server left ffmpeg running').toBeLessThan(10_000);
    await sleep(100);
  }

  const crashed = await readManifest(dir);
  expect(crashed.status).toBe('recording');
  for (const track of crashed.tracks) expect((await probe(join(dir, track.file))).codecs).toEqual([track.codec]);

  const library = new RecordingLibrary({ root, logger });
  const [recovered, ...others] = await library.recover();
  expect(others).toEqual([]);
  expect(recovered).toMatchObject({ recordingId: crashed.recordingId, status: 'interrupted', composite: { file: 'composite.mp4' } });
  expect(await readManifest(dir)).toEqual(recovered);
  for (const track of recovered!.tracks) {
    const file = await probe(join(dir, track.file));
    expect(file.duration, track.file).toBeGreaterThanOrEqual(recordedSeconds - 2.5);
    expect(track.endedAt! > track.startedAt).toBe(true);
  }
  const composite = await probe(join(dir, 'composite.mp4'));
  expect(composite.codecs).toEqual(['aac', 'h264']);
  expect(composite.duration).toBeGreaterThanOrEqual(recordedSeconds - 2.5);
  expect((await readdir(dir)).filter((file) => file.startsWith('.'))).toEqual([]);
  expect(await library.recover()).toEqual([]);
  expect(liveFfmpegCount()).toBe(0);
});
