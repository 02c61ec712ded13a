// Mutated SDP from every offer and answer we know: parsing, answering and reading answers end in
// a result or in SdpError/NoCommonCodecError, never another exception or a hang; whatever is
// parsed is written back as SDP that parses again.
import { describe, expect, it } from 'vitest';
import { answerOffer, createOffer, NoCommonCodecError, parseSdp, readAnswer, SdpError, writeSdp, type LocalMedia } from '../src/sdp/index.js';
import { ALL_OFFERS, CISCO_KEY_80 } from './sdp-offers.js';

const CASES = 50_000;
const LOCAL: LocalMedia = { address: '10.0.0.1', audio: { port: 40000 }, video: { port: 40002 }, maxBandwidthKbps: 2048, rtcpMux: true };
const FRAGMENTS = [
  'm=audio 0 RTP/AVP',
  'm=video 5000 RTP/SAVPF 96',
  'm=image 5000 udptl t38',
  'a=rtpmap:96 H264/90000',
  'a=rtpmap:101 telephone-event/48000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f',
  'a=fmtp:101 0-300',
  'a=rtcp-fb:* nack',
  'a=rtcp:1 IN IP6 ::1',
  `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${CISCO_KEY_80}|2^20|1:4`,
  'a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:short',
  'c=IN IP4 0.0.0.0',
  'c=IN IP6 ::/3',
  'a=sendonly',
  'a=inactive',
  'a=content:slides',
  'a=ssrc:1 cname',
  'b=TIAS:1',
  'o=- 1 99999999999999999999 IN IP4 x',
  '99999999999',
  '-1',
  '/',
  ':',
  ' ',
  '\r\n',
  '\n',
  '=',
  '',
];
const CHARACTERS = [...'0123456789abcdefAZ =:/;-*.\r\n\t\u00e9'];

/** Deterministic xorshift32, so a failure is reproduced by its case number. */
function random(seed: number): () => number {
  let state = seed || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function mutate(text: string, next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  let result = text;
  const steps = 1 + Math.floor(next() * 4);
  for (let step = 0; step < steps; step++) {
    const lines = result.split('\n');
    const at = Math.floor(next() * lines.length);
    const position = Math.floor(next() * (result.length + 1));
    switch (Math.floor(next() * 7)) {
      case 0:
        lines.splice(at, 1);
        result = lines.join('\n');
        break;
      case 1:
        lines.splice(at, 0, lines[Math.floor(next() * lines.length)] ?? '');
        result = lines.join('\n');
        break;
      case 2:
        lines.splice(at, 0, pick(FRAGMENTS));
        result = lines.join('\n');
        break;
      case 3:
        result = result.slice(0, position) + pick(CHARACTERS) + result.slice(position + 1);
        break;
      case 4:
        result = result.slice(0, position) + pick(FRAGMENTS) + result.slice(position);
        break;
      case 5:
        result = result.slice(0, position);
        break;
      default:
        result = result.replace(/\d+/g, (digits) => (next() < 0.1 ? String(Math.floor(next() * 2 ** (1 + Math.floor(next() * 40)))) : digits));
    }
  }
  return result;
}

function expected(error: unknown): boolean {
  return error instanceof SdpError || error instanceof NoCommonCodecError;
}

describe('SDP fuzz', () => {
  it(`survives ${CASES} mutated offers and answers`, () => {
    const ourOffer = createOffer({ ...LOCAL, srtp: 'required' });
    const plainOffer = createOffer(LOCAL);
    const seeds = [...ALL_OFFERS, ourOffer.sdp, answerOffer(plainOffer.sdp, LOCAL).sdp, answerOffer(ourOffer.sdp, { ...LOCAL, srtp: 'required' }).sdp];
    const next = random(0x5eed);
    const outcomes = { answered: 0, sdpError: 0, noCommonCodec: 0, rewritten: 0 };
    for (let index = 0; index < CASES; index++) {
      const text = mutate(seeds[index % seeds.length]!, next);
      const fail = (stage: string, error: unknown): never => {
        throw new Error(`case ${index} (${stage}) threw ${String(error)}\n${JSON.stringify(text)}`);
      };
      try {
        const session = parseSdp(text);
        const written = writeSdp(session);
        const reread = parseSdp(written);
        // Written SDP is a fixed point; the (slower) deep comparison runs on a sample.
        if (writeSdp(reread) !== written) fail('rewrite', 'a different SDP');
        if (index % 50 === 0) expect(reread).toEqual(session);
        outcomes.rewritten++;
      } catch (error) {
        if (!(error instanceof SdpError)) fail('parse/write', error);
      }
      for (const [stage, run] of [
        ['answerOffer', () => parseSdp(answerOffer(text, LOCAL).sdp)],
        ['readAnswer', () => readAnswer(index % 2 ? ourOffer : plainOffer, text)],
      ] as const) {
        try {
          run();
          outcomes.answered++;
        } catch (error) {
          if (!expected(error)) fail(stage, error);
          if (error instanceof SdpError) outcomes.sdpError++;
          else outcomes.noCommonCodec++;
        }
      }
    }
    // The mutations reach every outcome, so the run tests more than the first line check.
    expect(outcomes.answered).toBeGreaterThan(CASES / 10);
    expect(outcomes.sdpError).toBeGreaterThan(CASES / 10);
    expect(outcomes.noCommonCodec).toBeGreaterThan(CASES / 100);
    expect(outcomes.rewritten).toBeGreaterThan(CASES / 4);
  });
});
