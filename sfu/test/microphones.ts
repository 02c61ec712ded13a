// Synthetic microphones for active-speaker tests: Opus-typed RTP with an RFC 6464 audio level
// header extension, sent through a mediasoup DirectTransport (no browser needed).
import type { Meeting, mediasoupTypes as ms } from '../src/index.js';

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const AUDIO_LEVEL_ID = 1;

/** Opus with the audio level extension, as a microphone on a direct or plain transport sends it. */
export function microphoneRtpParameters(ssrc: number): ms.RtpParameters {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
    headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_ID }],
    encodings: [{ ssrc }],
  };
}

/** One 20 ms Opus-typed RTP packet with an RFC 6464 audio level of `dBov` below full scale. */
export function rtpPacket(ssrc: number, seq: number, dBov: number): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x90; // version 2, extension bit
  header[1] = 100; // payload type
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE((seq * 960) >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  const extension = Buffer.from([0xbe, 0xde, 0x00, 0x01, (AUDIO_LEVEL_ID << 4) | 0, 0x80 | dBov, 0x00, 0x00]);
  return Buffer.concat([header, extension, Buffer.from([0xf8, 0xff, 0xfe])]);
}

export async function microphone(transport: ms.DirectTransport, participantId: string, ssrc: number): Promise<ms.Producer> {
  return transport.produce({ kind: 'audio', rtpParameters: microphoneRtpParameters(ssrc), appData: { participantId, source: 'microphone' } });
}

/** Background noise of an open microphone in a quiet room, in -dBov. */
const ROOM_NOISE = 70;

function send(producer: ms.Producer, seq: number, dBov: number): void {
  producer.send(rtpPacket(producer.rtpParameters.encodings![0]!.ssrc!, seq, dBov));
}

/**
 * Sends 20 ms packets: `loud` speaks (-10 to -14 dBov, varying like a voice), `quiet` carries room
 * noise, until the meeting names `expected` as its speaker. Both start with a second of room
 * noise, which must not count as speech.
 */
export async function talkUntil(meeting: Meeting, expected: string, loud: ms.Producer, quiet: ms.Producer, seq: { n: number }): Promise<void> {
  const started = Date.now();
  while (meeting.activeSpeakerId !== expected) {
    if (Date.now() - started > 8000) throw new Error(`${expected} did not become the active speaker in 8 s`);
    seq.n++;
    send(loud, seq.n, seq.n < 50 ? ROOM_NOISE : 10 + (seq.n % 5));
    send(quiet, seq.n, ROOM_NOISE);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

