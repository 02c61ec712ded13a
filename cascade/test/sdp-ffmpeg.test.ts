// Tooling outside our parser reads our SDP: ffmpeg opens a written offer as the description of
// the RTP it would receive, and finds an audio stream and an H.264 stream in it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOffer } from '../src/sdp/index.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const directories: string[] = [];

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

/**
 * ffmpeg's stderr once it has described the input: it probes the ports for about 10 s first,
 * would then wait for packets, and is stopped.
 */
async function ffmpegInput(sdp: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'cascade-sdp-'));
  directories.push(directory);
  const file = join(directory, 'offer.sdp');
  await writeFile(file, sdp);
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-protocol_whitelist', 'file,udp,rtp', '-i', file, '-t', '0.1', '-f', 'null', '-']);
  let stderr = '';
  return new Promise((resolve, reject) => {
    const stop = setTimeout(() => ffmpeg.kill('SIGKILL'), 25_000);
    ffmpeg.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/Stream #0:1/.test(stderr)) ffmpeg.kill('SIGKILL');
    });
    ffmpeg.on('error', reject);
    ffmpeg.on('close', () => {
      clearTimeout(stop);
      resolve(stderr);
    });
  });
}

describe.skipIf(!hasFfmpeg)('ffmpeg reads our SDP', () => {
  it('opens a written offer as an RTP input with an audio and an H.264 stream', async () => {
    const port = 45000 + 2 * Math.floor(Math.random() * 5000);
    const offer = createOffer({ address: '127.0.0.1', audio: { port, codecs: ['PCMA', 'PCMU'] }, video: { port: port + 2 }, maxBandwidthKbps: 1024 });
    const stderr = await ffmpegInput(offer.sdp);
    expect(stderr).toMatch(/Input #0, sdp/);
    // ffmpeg describes an m-line by its last payload type.
    expect(stderr).toMatch(/Stream #0:0: Audio: pcm_mulaw, 8000 Hz, mono/);
    expect(stderr).toMatch(/Stream #0:1: Video: h264/);
    expect(stderr).not.toMatch(/Invalid|Unsupported/i);
  });

  it('refuses a broken one (the check above can fail)', async () => {
    const stderr = await ffmpegInput('v=0\r\nm=audio abc RTP/AVP 0\r\n');
    expect(stderr).toMatch(/Invalid data found when processing input/);
  });
});
