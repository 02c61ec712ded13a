// RecordingLibrary over hand-written recordings, and serveRecordingFile over real HTTP.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingLibrary, serveRecordingFile, type RecordingManifest, type RecordingStatus } from '@cityconf/recordings';

const logger = pino({ level: 'silent' });
const DAY_MS = 24 * 60 * 60 * 1000;
let root: string;
let library: RecordingLibrary;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'recordings-library-'));
  library = new RecordingLibrary({ root, logger });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A recording directory with a manifest and a 1000-byte track file ending `daysAgo` days ago. */
async function recording(meetingId: string, recordingId: string, status: RecordingStatus, daysAgo = 0): Promise<RecordingManifest> {
  const endedAt = Date.now() - daysAgo * DAY_MS;
  const manifest: RecordingManifest = {
    recordingId,
    meetingId,
    status,
    startedAt: new Date(endedAt - 60_000).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    tracks: [
      {
        id: 't001',
        file: 't001-camera-a.webm',
        kind: 'video',
        codec: 'vp8',
        participantId: 'a',
        name: '东城区',
        source: 'camera',
        startedAt: new Date(endedAt - 60_000).toISOString(),
        endedAt: new Date(endedAt).toISOString(),
      },
    ],
    timeline: [],
  };
  const dir = join(root, meetingId, recordingId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await writeFile(join(dir, 't001-camera-a.webm'), randomBytes(1000));
  return manifest;
}

describe('RecordingLibrary', () => {
  it('lists recordings per meeting or all, newest first, with duration and sizes', async () => {
    await recording('m1', 'r-old', 'complete', 3);
    await recording('m1', 'r-new', 'complete', 1);
    await recording('m2', 'r-other', 'interrupted', 2);
    await mkdir(join(root, 'm2', 'not-a-recording'));
    expect((await library.list()).map(({ manifest }) => manifest.recordingId)).toEqual(['r-new', 'r-other', 'r-old']);
    expect((await library.list('m1')).map(({ manifest }) => manifest.recordingId)).toEqual(['r-new', 'r-old']);
    expect(await library.list('nobody')).toEqual([]);
    const summary = await library.get('r-other');
    expect(summary).toMatchObject({ durationMs: 60_000, totalBytes: 1000, files: [{ name: 't001-camera-a.webm', bytes: 1000 }] });
    expect(summary.manifest.tracks[0]!.name).toBe('东城区');
    await expect(library.get('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('deletes finished recordings, never one being recorded', async () => {
    await recording('m1', 'done', 'complete');
    await recording('m1', 'live', 'recording');
    await library.delete('done');
    await expect(library.get('done')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(library.delete('live')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(library.delete('../m1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await library.list()).map(({ manifest }) => manifest.recordingId)).toEqual(['live']);
  });

  it('keeps recordings for the retention period, and live ones whatever their age', async () => {
    await recording('m1', 'fresh', 'complete', 5);
    await recording('m1', 'stale', 'complete', 40);
    await recording('m2', 'stale-interrupted', 'interrupted', 31);
    await recording('m2', 'stale-live', 'recording', 40);
    expect((await library.applyRetention(30)).sort()).toEqual(['stale', 'stale-interrupted']);
    expect((await library.list()).map(({ manifest }) => manifest.recordingId).sort()).toEqual(['fresh', 'stale-live']);
  });

  it('gives paths only of the files a manifest lists', async () => {
    await recording('m1', 'r1', 'complete');
    await writeFile(join(root, 'm1', 'r1', 'unlisted.webm'), 'x');
    expect(await library.filePath('r1', 't001-camera-a.webm')).toBe(join(root, 'm1', 'r1', 't001-camera-a.webm'));
    for (const name of ['../r1/t001-camera-a.webm', '../../etc/passwd', 'manifest.json', 'unlisted.webm', '/etc/passwd', '']) {
      await expect(library.filePath('r1', name), name).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await expect(library.filePath('..', 'm1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('serveRecordingFile', () => {
  let server: Server;
  let url: string;
  let content: Buffer;

  beforeEach(async () => {
    await recording('m1', 'r1', 'complete');
    const path = await library.filePath('r1', 't001-camera-a.webm');
    content = await readFile(path);
    server = createServer((req, res) => {
      const download = req.url === '/download';
      serveRecordingFile(req, res, path, { download, fileName: '东城区 周例会 (1).webm' }).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (range?: string, path = '/play') => fetch(url + path, { headers: range ? { range } : {} });

  it('sends the whole file without a Range', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-type')).toBe('video/webm');
    expect(res.headers.get('content-length')).toBe('1000');
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
  });

  it.each([
    ['bytes=100-199', 100, 199],
    ['bytes=900-', 900, 999],
    ['bytes=-50', 950, 999],
    ['bytes=990-5000', 990, 999],
    ['bytes=-5000', 0, 999],
  ])('answers %s with 206 and that slice', async (range, start, end) => {
    const res = await get(range);
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
    expect(res.headers.get('content-length')).toBe(String(end - start + 1));
    expect(Buffer.from(await res.arrayBuffer()).equals(content.subarray(start, end + 1))).toBe(true);
  });

  it.each(['bytes=1000-', 'bytes=500-400', 'bytes=-0'])('answers %s with 416', async (range) => {
    const res = await get(range);
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */1000');
    await res.arrayBuffer();
  });

  it('sends the whole file for ranges it does not serve', async () => {
    const res = await get('bytes=0-1,5-6');
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(1000);
  });

  it('names a download in UTF-8', async () => {
    const res = await get(undefined, '/download');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="___ ___ (1).webm"; filename*=UTF-8''${encodeURIComponent('东城区 周例会 ')}%281%29.webm`,
    );
    await res.arrayBuffer();
  });
});
