// Producers fed by a real ffmpeg over plain transports, for the recording tests and the crash
// child process (plain JavaScript, so that a child can import it without a TypeScript loader).
import { FfmpegProcess } from '@cityconf/sfu';

/** How ffmpeg synthesizes and sends each codec, and how it is produced. */
const CODECS = {
  opus: {
    kind: 'audio',
    codec: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 },
    input: (index) => ['-re', '-f', 'lavfi', '-i', `sine=frequency=${330 + 110 * index}:sample_rate=48000`],
    encode: ['-c:a', 'libopus', '-b:a', '32k'],
  },
  vp8: {
    kind: 'video',
    codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] },
    input: () => ['-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15'],
    encode: ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '15'],
  },
  h264: {
    kind: 'video',
    codec: {
      mimeType: 'video/H264',
      payloadType: 102,
      clockRate: 90000,
      parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
      rtcpFeedback: [{ type: 'nack', parameter: 'pli' }],
    },
    input: () => ['-re', '-f', 'lavfi', '-i', 'smptebars=size=320x180:rate=15'],
    encode: ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '15'],
  },
};

/**
 * One producer per codec in `codecs` on `router`, each on its own comedia plain transport, all
 * fed by one ffmpeg. ffmpeg sends RTCP from another port than RTP, and an SR first: RTCP has its
 * own port, or comedia would take the RTCP socket for the sender. stop() ends the ffmpeg (the
 * producers then stay open, without media).
 */
export async function syntheticFeeds(router, listenIp, codecs, logger) {
  const producers = [];
  const inputs = [];
  const outputs = [];
  for (const [index, name] of codecs.entries()) {
    const { kind, codec, input, encode } = CODECS[name];
    const ssrc = 1000 + index;
    const transport = await router.createPlainTransport({ listenIp, rtcpMux: false, comedia: true });
    producers.push(await transport.produce({ kind, rtpParameters: { codecs: [codec], encodings: [{ ssrc }] } }));
    const url = `rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple.localPort}`;
    inputs.push(...input(index));
    outputs.push('-map', `${index}`, ...encode, '-payload_type', `${codec.payloadType}`, '-ssrc', `${ssrc}`, '-f', 'rtp', url);
  }
  const ffmpeg = new FfmpegProcess('synthetic feeds', [...inputs, ...outputs], logger);
  return { producers, pid: ffmpeg.pid, stop: () => ffmpeg.stop() };
}
