// A room terminal's media into the meeting: its H.264 forwarded without re-encoding, its G.711
// as Opus, key frame requests passed back to it, its silence noticed, nothing left behind.
import { describe, expect, it } from 'vitest';
import { FfmpegProcess, liveFfmpegCount, type mediasoupTypes as ms } from '@cityconf/sfu';
import { answerOffer } from '../src/sdp/index.js';
import { SipInbound } from '../src/media/index.js';
import { payloadOffset } from '../src/media/rtp.js';
import { crlf, listener, mediaTestScope, peerPortPair, recordingLogger, rtpOnly, SIP_PORTS, sfuConfig, until, type Received } from './media.js';


/**
 * A room terminal's offer: G.722/PCMA/PCMU and DTMF, H.264 Baseline mode 0 and mode 1 (or an older
 * one's: mode 0 only), RTCP on port + 1.
 */
function terminalOffer(audioPort: number, videoPort: number, modeOne = true): string {
  return crlf([
    'v=0',
    'o=RoomKit 1706281010 0 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    'b=AS:1024',
    't=0 0',
    `m=audio ${audioPort} RTP/AVP 8 0 101`,
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=ptime:20',
    'a=sendrecv',
    `m=video ${videoPort} RTP/AVP 110${modeOne ? ' 111' : ''}`,
    'b=AS:1024',
    'a=rtpmap:110 H264/90000',
    'a=fmtp:110 profile-level-id=42801f;max-br=1024',
    ...(modeOne ? ['a=rtpmap:111 H264/90000', 'a=fmtp:111 profile-level-id=42801f;packetization-mode=1;max-br=1024'] : []),
    'a=rtcp-fb:* nack pli',
    'a=rtcp-fb:* ccm fir',
    'a=sendrecv',
  ]);
}

/** The first SPS in H.264 RTP packets (single NAL or STAP-A): [profile_idc, constraint flags, level_idc]. */
function firstSps(packets: Received[]): number[] | undefined {
  for (const { packet } of packets) {
    const payload = packet.subarray(payloadOffset(packet));
    const type = payload[0]! & 0x1f;
    if (type === 7) return [...payload.subarray(1, 4)];
    if (type !== 24) continue;
    for (let offset = 1; offset + 2 < payload.length; offset += 2 + payload.readUInt16BE(offset)) {
      if ((payload[offset + 2]! & 0x1f) === 7) return [...payload.subarray(offset + 3, offset + 6)];
    }
  }
  return undefined;
}

describe('SipInbound', () => {
  const { cleanups, openSfu } = mediaTestScope();

  it.each([
    { mode: 1, payloadType: 111, name: 'mode 1' },
    { mode: 0, payloadType: 110, name: 'mode 0, an older terminal' },
  ])('forwards the terminal H.264 ($name) as it is and its PCMA as Opus, asks it for key frames, and notices its silence', async ({ mode, payloadType }) => {
    const { logger } = recordingLogger();
    const sfu = await openSfu(logger);
    const router = (await sfu.openMeeting('cascade-in')).router;
    const before = await router.dump();
    const terminal = await peerPortPair();
    const terminalAudio = await peerPortPair();
    cleanups.push(() => [terminal, terminalAudio].flatMap((pair) => [pair.rtp.socket, pair.rtcp.socket]).forEach((socket) => socket.close()));

    const inbound = new SipInbound({ legId: 'terminal-1', router, listenIp: sfuConfig.listenIps[0]!, logger, mediaTimeoutS: 2, sipPorts: { address: '127.0.0.1', ports: SIP_PORTS } });
    cleanups.push(() => inbound.stop());
    const { audioPort, videoPort } = await inbound.allocate();
    const negotiation = answerOffer(terminalOffer(terminalAudio.rtp.port, terminal.rtp.port, mode === 1), {
      address: '127.0.0.1',
      audio: { port: audioPort, codecs: ['G722', 'PCMA', 'PCMU'] },
      video: { port: videoPort },
    });
    expect(negotiation.sdp).toContain(`m=video ${videoPort} RTP/AVP ${payloadType}`);
    expect(negotiation.audio?.codec.name).toBe('PCMA');
    await inbound.start(negotiation);
    const [video, audio] = inbound.producers as [ms.Producer, ms.Producer];
    expect(video.rtpParameters.codecs[0]).toMatchObject({ mimeType: 'video/H264', parameters: { 'profile-level-id': '42e01f', 'packetization-mode': 1 } });
    expect(audio.rtpParameters.codecs[0]).toMatchObject({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 });

    // The terminal: Baseline level 2.2 H.264 in the mode negotiated (mode 0: one slice per packet) and PCMA, in 20 ms packets.
    const modeZero = mode === 0 ? ['-x264-params', 'slice-max-size=1100', '-rtpflags', 'h264_mode0'] : [];
    const camera = new FfmpegProcess('terminal', [
      '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15',
      '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000',
      '-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-level:v', '2.2',
      '-pix_fmt', 'yuv420p', '-g', '15', ...modeZero, '-payload_type', String(payloadType), '-f', 'rtp', `rtp://127.0.0.1:${videoPort}?rtcpport=${videoPort + 1}&pkt_size=1200`,
      '-map', '1:a', '-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1', '-payload_type', '8', '-f', 'rtp', `rtp://127.0.0.1:${audioPort}?rtcpport=${audioPort + 1}&pkt_size=172`,
    ], logger);
    cleanups.push(() => camera.stop(0));

    // The meeting's side: plain consumers onto local sockets.
    const sinks: Received[][] = [];
    const consumers: ms.Consumer[] = [];
    for (const producer of [video, audio]) {
      const sink = await listener();
      cleanups.push(() => sink.socket.close());
      const transport = await router.createPlainTransport({ listenIp: sfuConfig.listenIps[0]!, rtcpMux: true, comedia: false });
      await transport.connect({ ip: '127.0.0.1', port: sink.port });
      consumers.push(await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities }));
      sinks.push(sink.received);
      cleanups.push(() => transport.close());
    }
    await until(() => firstSps(rtpOnly(sinks[0]!)) !== undefined && rtpOnly(sinks[1]!).length > 50, 15_000, 'video and audio reaching the meeting');
    // Not re-encoded: still Baseline (66) at level 2.2, as the terminal's encoder wrote it.
    expect(firstSps(rtpOnly(sinks[0]!))).toEqual([66, expect.any(Number), 22]);
    const opusPayloadType = consumers[1]!.rtpParameters.codecs[0]!.payloadType;
    expect(new Set(rtpOnly(sinks[1]!).map(({ packet }) => packet[1]! & 0x7f))).toEqual(new Set([opusPayloadType]));
    expect(consumers[1]!.rtpParameters.codecs[0]!.mimeType).toBe('audio/opus');

    // A viewer needs a key frame: the leg says so (for INFO) and sends the terminal an RTCP PLI.
    const keyFrameNeeded = new Promise<void>((resolve) => inbound.once('keyFrameNeeded', resolve));
    await consumers[0]!.requestKeyFrame();
    await keyFrameNeeded;
    await until(() => terminal.rtcp.received.some(({ packet }) => packet[1] === 206 && (packet[0]! & 0x1f) === 1), 2000, 'a PLI to the terminal');

    // The terminal goes quiet.
    const timedOut = new Promise<number>((resolve) => inbound.once('mediaTimeout', () => resolve(Date.now())));
    await camera.stop(0);
    const stoppedAt = Date.now();
    const at = await timedOut;
    expect(at - stoppedAt).toBeGreaterThan(1500);
    expect(at - stoppedAt).toBeLessThan(3500);

    await inbound.stop();
    for (const transport of consumers) transport.close();
    expect(liveFfmpegCount()).toBe(0);
    const after = await router.dump();
    expect(after.mapProducerIdConsumerIds).toEqual(before.mapProducerIdConsumerIds);
    expect(after.transportIds.length).toBe(before.transportIds.length + 2); // the two sinks' transports
  }, 40_000);
});
