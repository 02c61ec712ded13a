// Our SRTP (what SIP legs send when SDES keys are negotiated) as an independent implementation
// reads it: ffmpeg decrypts and authenticates a tone we protect, with both SDES suites.
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FfmpegProcess, receiveSdp, udpPortsBound } from '@cityconf/sfu';
import { SRTP_SUITES } from '../src/sdp/index.js';
import { generateSdesKey } from '../src/sdp/sdes.js';
import { SrtpSender } from '../src/media/index.js';
import { rtpPacket, RTP_HEADER_BYTES } from '../src/media/rtp.js';
import { mediaTestScope, recordingLogger, sleep, tonePower } from './media.js';

/** A-law bytes of a 400 Hz square wave (8 kHz: 10 samples up, 10 down). */
const SQUARE_WAVE = Buffer.from(Array.from({ length: 160 }, (_, index) => (Math.floor(index / 10) % 2 === 0 ? 0xa5 : 0x25)));


describe('SrtpSender', () => {
  const { cleanups } = mediaTestScope();

  it.each(SRTP_SUITES)('protects RTP that ffmpeg decrypts (%s)', async (suite) => {
    const { logger } = recordingLogger();
    const dir = await mkdtemp(join(tmpdir(), 'srtp-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const key = generateSdesKey();
    const port = 47900 + 2 * Math.floor(Math.random() * 40);
    const codec = { mimeType: 'audio/PCMA', payloadType: 8, clockRate: 8000 };
    await writeFile(join(dir, 'in.sdp'), receiveSdp([{ kind: 'audio', port, rtpParameters: { codecs: [codec] }, srtp: { suite, key } }]));
    const output = join(dir, 'out.raw');
    const ffmpeg = new FfmpegProcess('srtp-reader', ['-protocol_whitelist', 'file,udp,rtp', '-i', join(dir, 'in.sdp'), '-t', '1', '-f', 's16le', '-ac', '1', '-ar', '8000', output], logger);
    cleanups.push(() => ffmpeg.stop(0));
    for (let wait = 0; !(await udpPortsBound([port, port + 1])); wait++) {
      if (wait > 200) throw new Error('ffmpeg did not listen');
      await sleep(50);
    }
    const socket = createSocket('udp4');
    cleanups.push(() => socket.close());
    const sender = new SrtpSender(suite, key);
    // Sequence numbers across a wrap: the rollover counter must follow.
    for (let index = 0; index < 100; index++) {
      const plain = rtpPacket({ payloadType: 8, sequence: 65500 + index, timestamp: 160 * index, ssrc: 0x1234 }, SQUARE_WAVE);
      socket.send(sender.protectRtp(plain, RTP_HEADER_BYTES), port, '127.0.0.1');
      await sleep(20);
    }
    await ffmpeg.exited;
    const raw = await readFile(output);
    const samples = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
    expect(samples.length).toBeGreaterThan(4000);
    expect(tonePower(samples, 400)).toBeGreaterThan(50 * tonePower(samples, 1230));
  }, 20_000);
});
