// The meeting's media out to an MCU: one continuous H.264 stream across switches between a VP8 and
// an H.264 camera, a mix-minus in PCMA, key frames on the MCU's PLI, DTMF, nothing left behind.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { liveFfmpegCount, type mediasoupTypes as ms } from '@cityconf/sfu';
import { answerOffer, decodeTelephoneEvent } from '../src/sdp/index.js';
import { MediaPorts, SipOutbound } from '../src/media/index.js';
import { payloadOffset, pictureLossIndication } from '../src/media/rtp.js';
import { annexB, crlf, feedProducers, mediaTestScope, peerPortPair, recordingLogger, rtpOnly, SIP_PORTS, sfuConfig, sleep, tonePower, until, type Received } from './media.js';

const run = promisify(execFile);

function mcuOffer(audioPort: number, videoPort: number): string {
  return crlf([
    'v=0',
    'o=MCU 24512 24512 IN IP4 127.0.0.1',
    's=Sip Call',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${audioPort} RTP/AVP 9 8 0 101`,
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=sendrecv',
    `m=video ${videoPort} RTP/AVP 107`,
    'b=AS:512',
    'a=rtpmap:107 H264/90000',
    'a=fmtp:107 profile-level-id=42801f;packetization-mode=1',
    'a=rtcp-fb:* nack pli',
    'a=sendrecv',
  ]);
}

function alaw(byte: number): number {
  const value = byte ^ 0x55;
  const exponent = (value & 0x70) >> 4;
  let sample = (value & 0x0f) << 4;
  sample = exponent === 0 ? sample + 8 : (sample + 0x108) << (exponent - 1);
  return value & 0x80 ? sample : -sample;
}


function rms(samples: number[]): number {
  return Math.sqrt(samples.reduce((sum, sample) => sum + sample * sample, 0) / samples.length);
}

function pcmaSamples(packets: Received[]): number[] {
  return packets.flatMap(({ packet }) => [...packet.subarray(payloadOffset(packet))].map(alaw));
}

describe('SipOutbound', () => {
  const { cleanups, openSfu } = mediaTestScope();

  it('sends one continuous H.264 stream across VP8/H.264 switches, a PCMA mix-minus, key frames on PLI and DTMF', async () => {
    const { logger, messages } = recordingLogger();
    const sfu = await openSfu(logger);
    const router = (await sfu.openMeeting('cascade-out')).router;
    const before = await router.dump();
    const { producers, source } = await feedProducers(router, logger, [
      { kind: 'video', codec: 'VP8' },
      { kind: 'video', codec: 'H264' },
      { kind: 'audio', codec: 'opus', frequency: 440 },
      { kind: 'audio', codec: 'opus', frequency: 1000 },
    ]);
    cleanups.push(() => source.stop(0));
    const [cameraA, cameraB, otherMic, peersOwnMic] = producers as [ms.Producer, ms.Producer, ms.Producer, ms.Producer];

    const mcuVideo = await peerPortPair();
    const mcuAudio = await peerPortPair();
    cleanups.push(() => [mcuVideo, mcuAudio].flatMap((pair) => [pair.rtp.socket, pair.rtcp.socket]).forEach((socket) => socket.close()));
    const ports = await MediaPorts.allocate({ address: '127.0.0.1', ports: SIP_PORTS });
    cleanups.push(() => ports.close());
    const negotiation = answerOffer(mcuOffer(mcuAudio.rtp.port, mcuVideo.rtp.port), {
      address: '127.0.0.1',
      audio: { port: ports.audioPort, codecs: ['PCMA', 'PCMU'] },
      video: { port: ports.videoPort },
    });
    const outbound = await SipOutbound.start({
      legId: 'mcu-1',
      router,
      listenIp: sfuConfig.listenIps[0]!,
      negotiation,
      ports,
      logger,
      videoSize: { width: 320, height: 180 },
    });
    cleanups.push(() => outbound.stop());

    // Mix-minus: the MCU hears the other microphone, not its own.
    await outbound.setAudioSources([otherMic]);
    const startedAt = Date.now();
    // Each camera is shown from its next key frame on (they come every second), then for a while.
    for (const [index, camera] of [cameraA, cameraB, cameraA].entries()) {
      await outbound.setVideoSource(camera);
      await until(() => messages.filter((message) => message === 'video encoder switched').length === index + 1, 4000, `switch ${index + 1}`);
      await sleep(2000);
    }

    const video = rtpOnly(mcuVideo.rtp.received).filter(({ at }) => at >= startedAt);
    expect(new Set(video.map(({ packet }) => packet.readUInt32BE(8)))).toEqual(new Set([outbound.ssrcs.video]));
    expect(new Set(video.map(({ packet }) => packet[1]! & 0x7f))).toEqual(new Set([negotiation.video!.payloadType]));
    for (let index = 1; index < video.length; index++) {
      const { packet, at } = video[index]!;
      const previous = video[index - 1]!;
      expect((packet.readUInt16BE(2) - previous.packet.readUInt16BE(2)) & 0xffff).toBe(1);
      expect((packet.readUInt32BE(4) - previous.packet.readUInt32BE(4)) >>> 0).toBeLessThan(90000);
      expect(at - previous.at).toBeLessThan(1000);
    }
    const dir = await mkdtemp(join(tmpdir(), 'sip-out-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'mcu.h264'), annexB(video));
    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,profile,width,height,nb_read_frames', '-of', 'json', join(dir, 'mcu.h264')]);
    const [stream] = (JSON.parse(stdout) as { streams: { codec_name: string; profile: string; width: number; height: number; nb_read_frames: string }[] }).streams;
    expect(stream).toMatchObject({ codec_name: 'h264', profile: 'Constrained Baseline', width: 320, height: 180 });
    expect(Number(stream!.nb_read_frames)).toBeGreaterThan(8 * 8); // 8 s at 10–15 fps

    const audio = rtpOnly(mcuAudio.rtp.received).filter(({ at }) => at >= startedAt + 2000);
    expect(new Set(audio.map(({ packet }) => packet[1]! & 0x7f))).toEqual(new Set([8]));
    expect(new Set(audio.map(({ packet }) => packet.length - payloadOffset(packet)))).toEqual(new Set([160]));
    expect(new Set(audio.map(({ packet }) => packet.readUInt32BE(8)))).toEqual(new Set([outbound.ssrcs.audio]));
    const mixed = pcmaSamples(audio.slice(-100));
    expect(tonePower(mixed, 440)).toBeGreaterThan(100 * tonePower(mixed, 1000));

    // Only the MCU's own microphone speaks: it hears silence.
    await outbound.setAudioSources([]);
    const silencedAt = Date.now();
    await until(() => rms(pcmaSamples(rtpOnly(mcuAudio.rtp.received).slice(-5))) < 50, 3000, 'silence');
    expect(Date.now() - silencedAt).toBeLessThan(1000); // the mix's delay
    await sleep(600);
    const silent = pcmaSamples(rtpOnly(mcuAudio.rtp.received).slice(-25));
    expect(rms(silent)).toBeLessThan(50);
    expect(peersOwnMic.closed).toBe(false); // its 1000 Hz was sent all along, unheard

    // The MCU's PLI reaches the camera shown (whose key frame makes the encoder send one).
    const asked = new Promise<void>((resolve) => cameraA.on('trace', (trace) => trace.type === 'pli' && trace.direction === 'out' && resolve()));
    await cameraA.enableTraceEvent(['pli']);
    mcuVideo.rtcp.socket.send(pictureLossIndication(1234, outbound.ssrcs.video!), ports.videoPort + 1, '127.0.0.1');
    await asked;

    // DTMF as RFC 4733 events with the negotiated payload type.
    await outbound.sendDtmf('12#');
    const events = rtpOnly(mcuAudio.rtp.received)
      .filter(({ packet }) => (packet[1]! & 0x7f) === 101)
      .map(({ packet }) => decodeTelephoneEvent(packet.subarray(payloadOffset(packet))));
    expect([...new Set(events.filter((event) => event.end).map((event) => event.event))]).toEqual([1, 2, 11]);

    // No source: the picture goes on (black).
    await outbound.setVideoSource(null);
    const blackFrom = mcuVideo.rtp.received.length;
    await until(() => mcuVideo.rtp.received.length > blackFrom + 10, 3000, 'video without a source');

    await outbound.stop();
    ports.close();
    await source.stop(0);
    expect(liveFfmpegCount()).toBe(0);
    const after = await router.dump();
    expect(after.transportIds.length).toBe(before.transportIds.length + 4); // the feeds' transports
    expect(Object.values(after.mapProducerIdConsumerIds as Record<string, string[]>).flat()).toEqual([]);
  }, 40_000);
});
