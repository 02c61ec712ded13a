// Offer/answer for SIP legs: which payload type we take from what MCUs and terminals offer, the
// answer we send them, holds and re-INVITEs, 488 cases, and our own offers with their answers.
import { describe, expect, it } from 'vitest';
import {
  answerOffer,
  createOffer,
  NoCommonCodecError,
  parseSdp,
  readAnswer,
  formatEventList,
  SdpError,
  type LocalMedia,
  type NegotiatedMedia,
} from '../src/sdp/index.js';
import { BARESIP_OFFER, CISCO_KEY_80, CISCO_SRTP_OFFER, HUAWEI_OFFER, KEDACOM_OFFER, LEGACY_OFFER, POLYCOM_OFFER, ZTE_AUDIO_OFFER } from './sdp-offers.js';

const LOCAL: LocalMedia = { address: '10.0.0.1', audio: { port: 40000 }, video: { port: 40002 }, maxBandwidthKbps: 2048, sessionId: '777' };
const crlf = (sdpLines: string[]): string => `${sdpLines.join('\r\n')}\r\n`;

function lines(sdp: string): string[] {
  return sdp.trimEnd().split('\r\n');
}

/** The SDP from the first m-line on: every session part of ours is the same. */
function mediaLines(sdp: string): string[] {
  return lines(sdp).slice(5);
}

function mediaSections(sdp: string): string[] {
  return sdp
    .trimEnd()
    .split(/\r\n(?=m=)/)
    .slice(1)
    .map((section) => section.split('\r\n').join(' | '));
}

/** One line per negotiated media: what the B2BUA acts on. */
function summary(media: NegotiatedMedia | undefined): string {
  if (!media) return 'none';
  const { remote, codec, telephoneEvent, srtp } = media;
  return [
    `${media.kind} #${media.index} ${media.proto} ${media.direction}`,
    `PT ${media.payloadType} ${codec.name}/${codec.clockRate}${codec.channels ? `/${codec.channels}` : ''}`,
    telephoneEvent ? `DTMF PT ${telephoneEvent.payloadType}/${telephoneEvent.clockRate} ${formatEventList(telephoneEvent.events)}` : 'no DTMF',
    `to ${remote.address}:${remote.port} RTCP ${remote.rtcpAddress}:${remote.rtcpPort}${media.rtcpMux ? ' (mux)' : ''} from ${media.local.port}/${media.local.rtcpPort}`,
    `fb [${media.rtcpFeedback.map(({ type, parameter }) => (parameter ? `${type} ${parameter}` : type)).join(', ')}]`,
    `${media.bandwidthKbps ?? '-'} kbit/s`,
    srtp ? `SRTP ${srtp.suite} tag ${srtp.tag} remote ${srtp.remoteKey}` : 'RTP',
  ].join(' | ');
}

describe('answerOffer', () => {
  it('answers Polycom with G.722 and the Baseline mode 1 H.264, refusing slides and BFCP', () => {
    const negotiation = answerOffer(POLYCOM_OFFER, LOCAL);
    expect(lines(negotiation.sdp)).toMatchInlineSnapshot(`
      [
        "v=0",
        "o=- 777 1 IN IP4 10.0.0.1",
        "s=cityconf",
        "c=IN IP4 10.0.0.1",
        "t=0 0",
        "m=audio 40000 RTP/AVP 9 101",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=sendrecv",
        "m=video 40002 RTP/AVP 111",
        "b=AS:2048",
        "a=rtpmap:111 H264/90000",
        "a=fmtp:111 profile-level-id=42801f;packetization-mode=1;level-asymmetry-allowed=1",
        "a=rtcp-fb:111 nack pli",
        "a=rtcp-fb:111 ccm fir",
        "a=sendrecv",
        "m=video 0 RTP/AVP 109 111",
        "a=inactive",
        "m=application 0 UDP/BFCP *",
        "a=inactive",
      ]
    `);
    expect(summary(negotiation.audio)).toMatchInlineSnapshot(`"audio #0 RTP/AVP sendrecv | PT 9 G722/8000/1 | DTMF PT 101/8000 0-15 | to 192.0.2.20:49152 RTCP 192.0.2.20:49153 from 40000/40001 | fb [] | - kbit/s | RTP"`);
    expect(summary(negotiation.video)).toMatchInlineSnapshot(`"video #1 RTP/AVP sendrecv | PT 111 H264/90000 | no DTMF | to 192.0.2.20:49154 RTCP 192.0.2.20:49155 from 40002/40003 | fb [nack pli, ccm fir] | 1920 kbit/s | RTP"`);
    expect(negotiation.video?.codec).toEqual({
      name: 'H264',
      clockRate: 90000,
      parameters: { 'profile-level-id': '42801f', 'packetization-mode': '1', 'max-br': '1920', 'max-mbps': '245000', 'max-fs': '8160' },
      localFmtp: 'profile-level-id=42801f;packetization-mode=1;level-asymmetry-allowed=1',
    });
    expect(negotiation.rejected).toMatchInlineSnapshot(`
      [
        {
          "index": 2,
          "media": "video",
          "reason": "one video m-line is taken, this is a further one",
        },
        {
          "index": 3,
          "media": "application",
          "reason": "BFCP presentation is not supported",
        },
      ]
    `);
  });

  it('answers Cisco SRTP with Opus, its first usable crypto line and a fresh key of ours', () => {
    const negotiation = answerOffer(CISCO_SRTP_OFFER, LOCAL);
    expect(mediaLines(negotiation.sdp.replace(/inline:[A-Za-z0-9+/]{40}/g, 'inline:KEY'))).toMatchInlineSnapshot(`
      [
        "m=audio 40000 RTP/SAVP 114 101",
        "a=rtpmap:114 opus/48000/2",
        "a=fmtp:114 useinbandfec=1",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY",
        "a=sendrecv",
        "m=video 40002 RTP/SAVP 97",
        "b=AS:2048",
        "a=rtpmap:97 H264/90000",
        "a=fmtp:97 profile-level-id=428016;packetization-mode=1;level-asymmetry-allowed=1",
        "a=rtcp-fb:97 nack pli",
        "a=rtcp-fb:97 ccm fir",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:KEY",
        "a=sendrecv",
      ]
    `);
    expect(summary(negotiation.audio)).toMatchInlineSnapshot(`"audio #0 RTP/SAVP sendrecv | PT 114 opus/48000/2 | DTMF PT 101/8000 0-15 | to 203.0.113.40:2326 RTCP 203.0.113.40:2327 from 40000/40001 | fb [] | 64 kbit/s | SRTP AES_CM_128_HMAC_SHA1_80 tag 1 remote 9ADOAz1wmzcgGVIk79rny4dhMWPf2wGLgw3FUaHB"`);
    const audioKey = negotiation.audio?.srtp?.localKey ?? '';
    expect(Buffer.from(audioKey, 'base64')).toHaveLength(30);
    expect(negotiation.sdp).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${audioKey}\r\n`);
    expect(negotiation.video?.srtp).toMatchInlineSnapshot({ localKey: expect.any(String) }, `
      {
        "localKey": Any<String>,
        "remoteKey": "7Nc+D3GYuUJQRkWXSOraC4uRFG622BuWm6o94G2F",
        "suite": "AES_CM_128_HMAC_SHA1_32",
        "tag": 1,
      }
    `);
  });

  /** Each answer as one line per m-section, its SDP lines joined by ' | '. */
  const VENDOR_ANSWERS: { name: string; offer: string; local?: LocalMedia; answer: string[]; audio?: string; video?: string }[] = [
    {
      name: 'answers Huawei RTP/AVPF with its own RTCP port, b=TIAS and per-PT feedback',
      offer: HUAWEI_OFFER,
      answer: [
        'm=audio 40000 RTP/AVPF 9 101 | a=rtpmap:9 G722/8000 | a=rtpmap:101 telephone-event/8000 | a=fmtp:101 0-15 | a=sendrecv',
        'm=video 40002 RTP/AVPF 107 | b=AS:2048 | a=rtpmap:107 H264/90000 | a=fmtp:107 profile-level-id=42801f;packetization-mode=1;level-asymmetry-allowed=1 | a=rtcp-fb:107 ccm fir | a=sendrecv',
      ],
      audio: 'audio #0 RTP/AVPF sendrecv | PT 9 G722/8000/1 | DTMF PT 101/8000 0-15 | to 198.51.100.7:10000 RTCP 198.51.100.8:10001 from 40000/40001 | fb [] | - kbit/s | RTP',
      video: 'video #1 RTP/AVPF sendrecv | PT 107 H264/90000 | no DTMF | to 198.51.100.7:10002 RTCP 198.51.100.7:10003 from 40002/40003 | fb [ccm fir] | 2048 kbit/s | RTP',
    },
    {
      name: 'reads Kedacom LF SDP with static payload types and Main profile in capitals',
      offer: KEDACOM_OFFER,
      answer: [
        'm=audio 40000 RTP/AVP 9 | a=rtpmap:9 G722/8000 | a=sendrecv',
        'm=video 40002 RTP/AVP 106 | b=AS:2048 | a=rtpmap:106 H264/90000 | a=fmtp:106 profile-level-id=4d001f;packetization-mode=1;level-asymmetry-allowed=1 | a=sendrecv',
      ],
      audio: 'audio #0 RTP/AVP sendrecv | PT 9 G722/8000/1 | no DTMF | to 192.0.2.77:60000 RTCP 192.0.2.77:60001 from 40000/40001 | fb [] | - kbit/s | RTP',
    },
    {
      name: 'answers an audio-only ZTE offer with PCMA and telephone-event events 0-15',
      offer: ZTE_AUDIO_OFFER,
      answer: [
        'm=audio 40000 RTP/AVP 8 101 | a=rtpmap:8 PCMA/8000 | a=rtpmap:101 telephone-event/8000 | a=fmtp:101 0-15 | a=sendrecv',
      ],
    },
    {
      name: 'takes baresip H.264 mode 1 (offered after mode 0), Opus, and rtcp-mux when we allow it',
      offer: BARESIP_OFFER,
      local: { ...LOCAL, rtcpMux: true },
      answer: [
        'm=audio 40000 RTP/AVP 96 101 | a=rtpmap:96 opus/48000/2 | a=fmtp:96 useinbandfec=1 | a=rtpmap:101 telephone-event/8000 | a=fmtp:101 0-15 | a=rtcp-mux | a=sendrecv',
        'm=video 40002 RTP/AVP 101 | b=AS:2048 | a=rtpmap:101 H264/90000 | a=fmtp:101 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1 | a=rtcp-fb:101 nack pli | a=rtcp-mux | a=sendrecv',
      ],
    },
  ];

  it.each(VENDOR_ANSWERS)('$name', ({ offer, local, answer, audio, video }) => {
    const negotiation = answerOffer(offer, local ?? LOCAL);
    expect(mediaSections(negotiation.sdp)).toEqual(answer);
    if (audio) expect(summary(negotiation.audio)).toBe(audio);
    if (video) expect(summary(negotiation.video)).toBe(video);
  });

  it('answers without video when none is offered, and muxes RTCP only when we allow it', () => {
    expect(answerOffer(ZTE_AUDIO_OFFER, LOCAL).video).toBeUndefined();
    expect(answerOffer(BARESIP_OFFER, { ...LOCAL, rtcpMux: true }).video?.remote).toEqual({ address: '192.0.2.5', port: 10002, rtcpAddress: '192.0.2.5', rtcpPort: 10002 });
    expect(answerOffer(BARESIP_OFFER, LOCAL).audio?.rtcpMux).toBe(false);
  });
});

describe('answerOffer choices', () => {
  it('follows our H.264 preference among the offered payload types', () => {
    const high = answerOffer(HUAWEI_OFFER, { ...LOCAL, video: { port: 40002, h264ProfileLevelIds: ['640028', '42e01f'] } });
    expect(high.video?.payloadType).toBe(106);
    expect(high.video?.codec.localFmtp).toBe('profile-level-id=640028;packetization-mode=1;level-asymmetry-allowed=1');
    expect(high.video?.rtcpFeedback).toEqual([{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }]);
    const audio = answerOffer(POLYCOM_OFFER, { ...LOCAL, audio: { port: 40000, codecs: ['PCMU', 'PCMA'], telephoneEvent: false } });
    expect(audio.audio?.payloadType).toBe(0);
    expect(audio.audio?.telephoneEvent).toBeUndefined();
    expect(lines(audio.sdp)).toContain('m=audio 40000 RTP/AVP 0');
  });

  it('answers with the level we receive when the offer allows asymmetry, else at most the offered level', () => {
    const offer = (fmtp: string): string =>
      crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000', `a=fmtp:96 ${fmtp}`]);
    const fmtpOf = (text: string): string | undefined => answerOffer(offer(text), LOCAL).video?.codec.localFmtp;
    expect(fmtpOf('profile-level-id=42e00d;packetization-mode=1;level-asymmetry-allowed=1')).toBe('profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1');
    expect(fmtpOf('profile-level-id=42e00d;packetization-mode=1')).toBe('profile-level-id=42e00d;packetization-mode=1;level-asymmetry-allowed=1');
    expect(fmtpOf('profile-level-id=640032;packetization-mode=1')).toBe('profile-level-id=640028;packetization-mode=1;level-asymmetry-allowed=1');
    expect(fmtpOf('packetization-mode=1')).toBe('profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1');
    expect(fmtpOf('profile-level-id=58a01f;packetization-mode=1')).toBe('profile-level-id=58a01f;packetization-mode=1;level-asymmetry-allowed=1');
    for (const unknown of ['58001f', '6e001f', 'zz001f']) {
      expect(() => answerOffer(offer(`profile-level-id=${unknown};packetization-mode=1`), LOCAL)).toThrow(NoCommonCodecError);
    }
  });

  it('takes one m-line per kind', () => {
    const twoAudio = crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 5000 RTP/AVP 8', 'a=sendonly', 'm=audio 5002 RTP/AVP 0', 'a=recvonly']);
    const negotiation = answerOffer(twoAudio, LOCAL);
    expect(lines(negotiation.sdp).slice(5)).toEqual(['m=audio 40000 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000', 'a=recvonly', 'm=audio 0 RTP/AVP 0', 'a=inactive']);
    expect(negotiation.rejected).toEqual([{ index: 1, media: 'audio', reason: 'one audio m-line is taken, this is a further one' }]);
  });

  it('keys SRTP only from a crypto line it can use, and follows our SRTP policy', () => {
    const offer = (proto: string, crypto: string[]): string =>
      crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', `m=audio 5000 ${proto} 8`, ...crypto, 'm=video 5002 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1']);
    const withMki = offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${CISCO_KEY_80}|2^20|1:32`, `a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:${CISCO_KEY_80}`]);
    expect(answerOffer(withMki, LOCAL).rejected).toEqual([
      { index: 0, media: 'audio', reason: 'RTP/SAVP without a usable a=crypto (inline AES_CM_128_HMAC_SHA1_80 or _32 key, no MKI)' },
    ]);
    const bestEffort = answerOffer(offer('RTP/AVP', [`a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${CISCO_KEY_80}`]), LOCAL);
    expect(lines(bestEffort.sdp)[5]).toBe('m=audio 40000 RTP/AVP 8');
    expect(bestEffort.audio?.srtp).toMatchObject({ tag: 3, suite: 'AES_CM_128_HMAC_SHA1_80', remoteKey: CISCO_KEY_80 });
    expect(answerOffer(offer('RTP/AVP', [`a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${CISCO_KEY_80}`]), { ...LOCAL, srtp: 'off' }).audio?.srtp).toBeUndefined();
    const required = answerOffer(offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${CISCO_KEY_80}`]), { ...LOCAL, srtp: 'required' });
    expect(required.audio?.srtp?.tag).toBe(1);
    expect(required.rejected).toEqual([{ index: 1, media: 'video', reason: 'plain RTP is refused: SRTP (SDES a=crypto) is required here' }]);
    expect(() => answerOffer(CISCO_SRTP_OFFER, { ...LOCAL, srtp: 'off' })).toThrow(NoCommonCodecError);
  });
});

describe('488 Not Acceptable Here', () => {
  it('says why each m-line was refused and what we support', () => {
    let error: unknown;
    try {
      answerOffer(LEGACY_OFFER, LOCAL);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(NoCommonCodecError);
    const { reasons, warning } = error as NoCommonCodecError;
    expect(reasons).toEqual(['m-line 0 (audio): no codec we take among G729/8000, G723/8000', 'm-line 1 (video): no codec we take among H263/90000']);
    expect(warning).toBe(
      'audio Opus/48000/2, G.722, PCMA, PCMU and telephone-event; video H.264 profile-level-id 42e01f, 4d001f, 640028, 42e01f mode 0 (packetization-mode 1 unless said) over RTP/AVP or RTP/AVPF (RTP or SDES-SRTP, AES_CM_128_HMAC_SHA1_80/32)',
    );
    expect(warning).not.toMatch(/"/);
  });

  it('refuses video-only offers when we take only audio, and offers of non-RTP media', () => {
    const video = KEDACOM_OFFER.replace(/m=audio[^]*?(?=m=video)/, '');
    expect(() => answerOffer(video, { address: '10.0.0.1', audio: { port: 40000 } })).toThrow(/m-line 0 \(video\): we take no video/);
    const webrtc = crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2']);
    expect(() => answerOffer(webrtc, LOCAL)).toThrow(/UDP\/TLS\/RTP\/SAVPF is not RTP\/AVP, RTP\/AVPF, RTP\/SAVP or RTP\/SAVPF/);
  });
});

describe('hold and re-INVITE', () => {
  it('follows the peer to a new address and port, and counts o= versions only when our SDP changes', () => {
    const first = answerOffer(POLYCOM_OFFER, LOCAL);
    const moved = answerOffer(POLYCOM_OFFER.replace('m=audio 49152', 'm=audio 50152').replace('c=IN IP4 192.0.2.20', 'c=IN IP4 192.0.2.21'), LOCAL, first);
    expect(moved.audio?.remote).toEqual({ address: '192.0.2.21', port: 50152, rtcpAddress: '192.0.2.21', rtcpPort: 50153 });
    expect(moved.video?.remote.address).toBe('192.0.2.21');
    expect(moved.sdp).toBe(first.sdp);
    const held = answerOffer(POLYCOM_OFFER.replaceAll('a=sendrecv', 'a=sendonly'), LOCAL, moved);
    expect([held.audio?.direction, held.video?.direction]).toEqual(['recvonly', 'recvonly']);
    expect(lines(held.sdp)).toContain('a=recvonly');
    const resumed = answerOffer(POLYCOM_OFFER, LOCAL, held);
    const refreshed = answerOffer(POLYCOM_OFFER, LOCAL, resumed);
    expect([first, moved, held, resumed, refreshed].map(({ session }) => session.origin.sessionVersion)).toEqual(['1', '1', '2', '3', '3']);
    expect(new Set([first, held, resumed].map(({ session }) => session.origin.sessionId))).toEqual(new Set(['777']));
    expect(lines(resumed.sdp)[1]).toBe('o=- 777 3 IN IP4 10.0.0.1');
  });

  it('reads RFC 2543 hold (c=0.0.0.0), inactive offers and our own hold', () => {
    const zeroAddress = answerOffer(ZTE_AUDIO_OFFER.replace('c=IN IP4 198.51.100.90', 'c=IN IP4 0.0.0.0'), LOCAL);
    expect(zeroAddress.audio).toMatchObject({ direction: 'recvonly', remote: { address: '0.0.0.0', port: 30000 } });
    expect(lines(zeroAddress.sdp)).toContain('a=recvonly');
    const zeroAndRecvonly = answerOffer(ZTE_AUDIO_OFFER.replace('c=IN IP4 198.51.100.90', 'c=IN IP4 0.0.0.0').replace('a=sendrecv', 'a=recvonly'), LOCAL);
    expect(zeroAndRecvonly.audio?.direction).toBe('inactive');
    expect(answerOffer(ZTE_AUDIO_OFFER.replace('a=sendrecv', 'a=inactive'), LOCAL).audio?.direction).toBe('inactive');
    expect(answerOffer(ZTE_AUDIO_OFFER.replace('a=sendrecv', 'a=recvonly'), LOCAL).audio?.direction).toBe('sendonly');
    expect(answerOffer(ZTE_AUDIO_OFFER, { ...LOCAL, direction: 'sendonly' }).audio?.direction).toBe('sendonly');
    expect(answerOffer(ZTE_AUDIO_OFFER.replace('a=sendrecv', 'a=sendonly'), { ...LOCAL, direction: 'sendonly' }).audio?.direction).toBe('inactive');
  });

  it('keeps the codec and our SRTP key on a re-INVITE while they are still offered', () => {
    const highOnly = HUAWEI_OFFER.replace('m=video 10002 RTP/AVPF 106 107 108 34', 'm=video 10002 RTP/AVPF 106');
    const first = answerOffer(highOnly, LOCAL);
    expect(first.video?.payloadType).toBe(106);
    expect(answerOffer(HUAWEI_OFFER, LOCAL, first).video?.payloadType).toBe(106);
    expect(answerOffer(HUAWEI_OFFER, LOCAL).video?.payloadType).toBe(107);
    const secure = answerOffer(CISCO_SRTP_OFFER, LOCAL);
    const again = answerOffer(CISCO_SRTP_OFFER, LOCAL, secure);
    expect(again.audio?.srtp?.localKey).toBe(secure.audio?.srtp?.localKey);
    expect(again.sdp).toBe(secure.sdp);
  });
});

describe('H.264 packetization-mode 0', () => {
  it('answers a terminal that offers only mode 0 in mode 0, and prefers mode 1 when both are offered', () => {
    const legacy = crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'm=video 6002 RTP/AVP 109', 'a=rtpmap:109 H264/90000', 'a=fmtp:109 profile-level-id=42801e;max-mbps=40500']);
    const answer = answerOffer(legacy, LOCAL);
    expect(answer.video).toMatchObject({ payloadType: 109, codec: { localFmtp: 'profile-level-id=42801e;packetization-mode=0;level-asymmetry-allowed=1' } }); // its level: no asymmetry offered
    expect(answerOffer(BARESIP_OFFER, LOCAL).video?.codec.parameters['packetization-mode']).toBe('1');
    expect(answerOffer(POLYCOM_OFFER, LOCAL).video?.codec.parameters['packetization-mode']).toBe('1');
  });
});

describe('createOffer and readAnswer', () => {
  it('offers audio with telephone-event and H.264 with feedback and bandwidth, SRTP when required', () => {
    expect(mediaSections(createOffer(LOCAL).sdp)).toMatchInlineSnapshot(`
      [
        "m=audio 40000 RTP/AVP 111 9 8 0 101 110 | a=rtpmap:111 opus/48000/2 | a=fmtp:111 useinbandfec=1 | a=rtpmap:9 G722/8000 | a=rtpmap:8 PCMA/8000 | a=rtpmap:0 PCMU/8000 | a=rtpmap:101 telephone-event/8000 | a=fmtp:101 0-15 | a=rtpmap:110 telephone-event/48000 | a=fmtp:110 0-15 | a=sendrecv",
        "m=video 40002 RTP/AVP 96 97 98 99 | b=AS:2048 | a=rtpmap:96 H264/90000 | a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1 | a=rtcp-fb:96 nack | a=rtcp-fb:96 nack pli | a=rtcp-fb:96 ccm fir | a=rtpmap:97 H264/90000 | a=fmtp:97 profile-level-id=4d001f;packetization-mode=1;level-asymmetry-allowed=1 | a=rtcp-fb:97 nack | a=rtcp-fb:97 nack pli | a=rtcp-fb:97 ccm fir | a=rtpmap:98 H264/90000 | a=fmtp:98 profile-level-id=640028;packetization-mode=1;level-asymmetry-allowed=1 | a=rtcp-fb:98 nack | a=rtcp-fb:98 nack pli | a=rtcp-fb:98 ccm fir | a=rtpmap:99 H264/90000 | a=fmtp:99 profile-level-id=42e01f;packetization-mode=0;level-asymmetry-allowed=1 | a=rtcp-fb:99 nack | a=rtcp-fb:99 nack pli | a=rtcp-fb:99 ccm fir | a=sendrecv",
      ]
    `);
    const secure = createOffer({ ...LOCAL, audio: { port: 40000, codecs: ['PCMA'] }, video: { port: 40002, h264ProfileLevelIds: ['42e01f'] }, srtp: 'required', rtcpMux: true });
    expect(mediaSections(secure.sdp.replace(/inline:[A-Za-z0-9+/]{40}/g, 'inline:KEY'))).toMatchInlineSnapshot(`
      [
        "m=audio 40000 RTP/SAVP 8 101 | a=rtpmap:8 PCMA/8000 | a=rtpmap:101 telephone-event/8000 | a=fmtp:101 0-15 | a=rtcp-mux | a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY | a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:KEY | a=sendrecv",
        "m=video 40002 RTP/SAVP 96 97 | b=AS:2048 | a=rtpmap:96 H264/90000 | a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1 | a=rtcp-fb:96 nack | a=rtcp-fb:96 nack pli | a=rtcp-fb:96 ccm fir | a=rtpmap:97 H264/90000 | a=fmtp:97 profile-level-id=42e01f;packetization-mode=0;level-asymmetry-allowed=1 | a=rtcp-fb:97 nack | a=rtcp-fb:97 nack pli | a=rtcp-fb:97 ccm fir | a=rtcp-mux | a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY | a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:KEY | a=sendrecv",
      ]
    `);
    expect(parseSdp(secure.sdp)).toEqual(secure.session);
  });

  it('reads an MCU answer taking PCMA and Main at another level', () => {
    const offer = createOffer(LOCAL);
    const answer = crlf([
      'v=0',
      'o=MCU 5 5 IN IP4 198.51.100.7',
      's=-',
      't=0 0',
      'm=audio 20000 RTP/AVP 8 101',
      'c=IN IP4 198.51.100.7',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-11',
      'm=video 20002 RTP/AVP 97',
      'c=IN IP4 198.51.100.8',
      'b=AS:1024',
      'a=rtpmap:97 H264/90000',
      'a=fmtp:97 profile-level-id=4d0028;packetization-mode=1',
      'a=rtcp-fb:97 ccm fir',
      'a=rtcp-fb:97 ccm tmmbr',
      'a=recvonly',
    ]);
    const negotiation = readAnswer(offer, answer);
    expect(negotiation.sdp).toBe(offer.sdp);
    expect(negotiation.audio).toMatchObject({ payloadType: 8, codec: { name: 'PCMA', clockRate: 8000, channels: 1 }, telephoneEvent: { payloadType: 101, events: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] } });
    expect(negotiation.video).toMatchObject({
      payloadType: 97,
      codec: { parameters: { 'profile-level-id': '4d0028', 'packetization-mode': '1' }, localFmtp: 'profile-level-id=4d001f;packetization-mode=1;level-asymmetry-allowed=1' },
      rtcpFeedback: [{ type: 'ccm', parameter: 'fir' }],
      direction: 'sendonly',
      remote: { address: '198.51.100.8', port: 20002, rtcpPort: 20003 },
      bandwidthKbps: 1024,
    });
  });

  it('agrees with answerOffer at the other end, SRTP keys crossing', () => {
    const offer = createOffer({ ...LOCAL, srtp: 'required' });
    const mcu: LocalMedia = { address: '192.0.2.50', audio: { port: 5000, codecs: ['PCMA'] }, video: { port: 5002, h264ProfileLevelIds: ['4d0028'] }, srtp: 'required' };
    const theirs = answerOffer(offer.sdp, mcu);
    const ours = readAnswer(offer, theirs.sdp);
    for (const kind of ['audio', 'video'] as const) {
      expect(ours[kind]?.payloadType).toBe(theirs[kind]?.payloadType);
      expect(ours[kind]?.srtp?.remoteKey).toBe(theirs[kind]?.srtp?.localKey);
      expect(ours[kind]?.srtp?.localKey).toBe(theirs[kind]?.srtp?.remoteKey);
      expect(ours[kind]?.remote.port).toBe(theirs[kind]?.local.port);
    }
    expect(ours.video?.payloadType).toBe(97);
  });

  it('takes an answer in H.264 packetization-mode 0 (older MCUs): Baseline only', () => {
    const offer = createOffer(LOCAL);
    const answer = crlf(['v=0', 'o=MCU 5 5 IN IP4 198.51.100.7', 's=-', 'c=IN IP4 198.51.100.7', 't=0 0', 'm=audio 20000 RTP/AVP 8', 'm=video 20002 RTP/AVP 99', 'a=rtpmap:99 H264/90000', 'a=fmtp:99 profile-level-id=42801f']);
    const negotiation = readAnswer(offer, answer);
    expect(negotiation.video).toMatchObject({ payloadType: 99, codec: { parameters: { 'profile-level-id': '42801f' }, localFmtp: 'profile-level-id=42e01f;packetization-mode=0;level-asymmetry-allowed=1' } });
  });

  it('refuses answers that do not answer our offer', () => {
    const offer = createOffer(LOCAL);
    const answer = (media: string[]): string => crlf(['v=0', 'o=MCU 5 5 IN IP4 198.51.100.7', 's=-', 'c=IN IP4 198.51.100.7', 't=0 0', ...media]);
    const audio = ['m=audio 20000 RTP/AVP 8'];
    expect(() => readAnswer(offer, answer(audio))).toThrow(new SdpError('the answer has 1 m-lines; our offer has 2'));
    expect(() => readAnswer(offer, answer([...audio, 'm=video 20002 RTP/AVP 34']))).toThrow(new SdpError('m-line 1 (video) of the answer selects H263/90000, which we did not offer'));
    expect(() => readAnswer(offer, answer([...audio, 'm=video 20002 RTP/AVP 97', 'a=rtpmap:97 H264/90000', 'a=fmtp:97 profile-level-id=4d001f']))).toThrow(
      new SdpError('m-line 1 (video) of the answer selects H264/90000 (profile-level-id=4d001f), which we did not offer'), // Main in mode 0
    );
    expect(() => readAnswer(offer, answer([...audio, 'm=video 20002 RTP/SAVP 96']))).toThrow(new SdpError('m-line 1 (video) of the answer is RTP/SAVP; we offered RTP/AVP'));
    expect(() => readAnswer(offer, answer(['m=audio 0 RTP/AVP 8', 'm=video 0 RTP/AVP 96']))).toThrow(NoCommonCodecError);
    const secure = createOffer({ ...LOCAL, srtp: 'required' });
    expect(() => readAnswer(secure, answer(['m=audio 20000 RTP/SAVP 8', `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${CISCO_KEY_80}`, 'm=video 0 RTP/SAVP 96']))).toThrow(
      /no usable a=crypto answering one of our tags \(1 AES_CM_128_HMAC_SHA1_80, 2 AES_CM_128_HMAC_SHA1_32\)/,
    );
  });

  it('re-offers on hold with the next o= version and the same SRTP keys', () => {
    const offer = createOffer({ ...LOCAL, srtp: 'required' });
    const negotiation = readAnswer(offer, answerOffer(offer.sdp, { address: '192.0.2.50', audio: { port: 5000 }, srtp: 'required' }).sdp);
    const hold = createOffer({ ...LOCAL, srtp: 'required', direction: 'sendonly' }, negotiation);
    expect(hold.session.origin).toMatchObject({ sessionId: '777', sessionVersion: '2' });
    expect(hold.session.media.map(({ direction }) => direction)).toEqual(['sendonly', 'sendonly']);
    expect(hold.session.media[0]?.crypto[0]?.keyParams).toBe(`inline:${negotiation.audio?.srtp?.localKey}`);
  });
});
