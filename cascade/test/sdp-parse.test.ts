// parseSdp/writeSdp: what hardware sends is read into typed fields (the rest kept as written),
// what cannot be used is an SdpError naming the line, and writing gives back what was read.
import { describe, expect, it } from 'vitest';
import { answerOffer, codecOf, connectionOf, MAX_SDP_BYTES, parseSdp, SdpError, writeSdp, type LocalMedia } from '../src/sdp/index.js';
import { ALL_OFFERS, CISCO_KEY_32, CISCO_SRTP_OFFER, HUAWEI_OFFER, KEDACOM_OFFER, POLYCOM_OFFER, ZTE_AUDIO_OFFER } from './sdp-offers.js';

const LOCAL: LocalMedia = { address: '10.0.0.1', audio: { port: 40000 }, video: { port: 40002 } };

describe('parseSdp', () => {
  it('reads a Polycom offer: session, media, payload types, feedback, content and vendor lines', () => {
    const session = parseSdp(POLYCOM_OFFER);
    expect(session.origin).toEqual({ username: 'GroupSeries', sessionId: '1706281010', sessionVersion: '0', addressType: 'IP4', address: '192.0.2.20' });
    expect(session.connection).toEqual({ addressType: 'IP4', address: '192.0.2.20' });
    expect(session.bandwidths).toEqual([{ type: 'AS', value: 1920 }]);
    expect(session.media.map(({ kind, port, proto }) => [kind, port, proto])).toEqual([
      ['audio', 49152, 'RTP/AVP'],
      ['video', 49154, 'RTP/AVP'],
      ['video', 49156, 'RTP/AVP'],
      ['application', 49158, 'UDP/BFCP'],
    ]);
    const [audio, video, slides, bfcp] = session.media;
    expect(audio?.payloads.find(({ payloadType }) => payloadType === 18)).toEqual({ payloadType: 18, rtpmap: { encodingName: 'G729', clockRate: 8000 }, fmtp: 'annexb=no', rtcpFeedback: [] });
    expect(video?.payloads[2]).toEqual({
      payloadType: 111,
      rtpmap: { encodingName: 'H264', clockRate: 90000 },
      fmtp: 'profile-level-id=42801f;packetization-mode=1;max-br=1920;max-mbps=245000;max-fs=8160',
      rtcpFeedback: [],
    });
    expect(video?.rtcpFeedbackAll).toEqual([{ type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'ccm', parameter: 'tmmbr' }]);
    expect([video?.content, video?.label, slides?.content, slides?.label]).toEqual(['main', '1', 'slides', '2']);
    expect(video?.attributes).toEqual([{ name: 'X-Polycom-lpr', value: '0' }]);
    expect(bfcp).toMatchObject({ kind: 'application', formats: ['*'], payloads: [], direction: 'sendrecv' });
    expect(bfcp?.attributes).toEqual([
      { name: 'floorctrl', value: 'c-s' },
      { name: 'confid', value: '1' },
      { name: 'floorid', value: '2 mstrm:2' },
      { name: 'userid', value: '3' },
    ]);
  });

  it('reads LF line ends, trailing spaces, c= per media and static payload types without rtpmap', () => {
    const session = parseSdp(KEDACOM_OFFER);
    expect(session.connection).toBeUndefined();
    const [audio, video] = session.media;
    expect(audio?.formats).toEqual(['9', '8', '0', '18']);
    expect(audio?.payloads.map(codecOf)).toEqual([
      { encodingName: 'G722', clockRate: 8000, channels: 1 },
      { encodingName: 'PCMA', clockRate: 8000, channels: 1 },
      { encodingName: 'PCMU', clockRate: 8000, channels: 1 },
      { encodingName: 'G729', clockRate: 8000, channels: 1 },
    ]);
    expect(connectionOf(session, audio!)).toEqual({ addressType: 'IP4', address: '192.0.2.77' });
    expect(audio?.ptime).toBe(20);
    expect(video?.bandwidths).toEqual([{ type: 'AS', value: 2048 }]);
    expect(codecOf({ payloadType: 97, rtcpFeedback: [] })).toBeUndefined();
  });

  it('reads a=rtcp with an address, crypto lines, ssrc, framerate and the session direction', () => {
    const huawei = parseSdp(HUAWEI_OFFER);
    expect(huawei.media[0]?.rtcp).toEqual({ port: 10001, addressType: 'IP4', address: '198.51.100.8' });
    expect(huawei.media[1]?.framerate).toBe(30);
    expect(huawei.media[1]?.payloads[0]?.rtcpFeedback).toEqual([{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }]);
    expect(huawei.bandwidths).toEqual([{ type: 'TIAS', value: 4096000 }]);
    expect(parseSdp(CISCO_SRTP_OFFER).media[1]?.crypto).toEqual([
      { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_32', keyParams: `inline:${CISCO_KEY_32}`, sessionParams: [] },
      { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: expect.stringMatching(/\|2\^31\|1:4$/), sessionParams: [] },
    ]);
    const zte = parseSdp(ZTE_AUDIO_OFFER.replace('t=0 0', 't=0 0\r\na=sendonly').replace('a=sendrecv\r\n', ''));
    expect(zte.direction).toBe('sendonly');
    expect(zte.media[0]?.direction).toBe('sendonly');
    expect(zte.media[0]?.ssrcs).toEqual([{ id: 305419896, attribute: 'cname', value: 'zte@198.51.100.90' }]);
    expect(zte.media[0]?.rtcpMux).toBe(false);
    expect(parseSdp(ZTE_AUDIO_OFFER.replace('a=ptime:20', 'a=rtcp-mux')).media[0]?.rtcpMux).toBe(true);
  });

  it('refuses what cannot be used with SdpError naming the fault', () => {
    const base = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 5000 RTP/AVP 0'];
    const sdp = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;
    const cases: [string, string][] = [
      ['', 'the body is not SDP: it must start with "v=0", not ""'],
      ['SIP/2.0 200 OK', 'the body is not SDP: it must start with "v=0", not "SIP/2.0 200 OK"'],
      [sdp(base.filter((line) => !line.startsWith('o='))), 'the SDP has no o= line'],
      [sdp([...base, 'garbage']), '"garbage" is not an SDP "<type>=<value>" line'],
      [sdp(base.filter((line) => !line.startsWith('c='))), 'm-line 0 (audio 5000) has no c= line and the session has none'],
      [sdp([...base.slice(0, 5), 'm=audio 70000 RTP/AVP 0']), '"m=audio 70000 RTP/AVP 0": the port must be an integer from 0 to 65535, not "70000"'],
      [sdp([...base.slice(0, 5), 'm=audio 5000']), '"m=audio 5000": expected "m=<media> <port> <proto> <formats>"'],
      [sdp([...base.slice(0, 5), 'm=audio 5000 RTP/AVP 0 abc']), '"m=audio 5000 RTP/AVP 0 abc": an RTP payload type must be an integer from 0 to 127, not "abc"'],
      [sdp([...base, 'a=rtpmap:0 PCMU']), '"a=rtpmap:0 PCMU": expected "a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]"'],
      [sdp([...base, 'a=rtcp:x']), '"a=rtcp:x": the RTCP port must be an integer from 0 to 65535, not "x"'],
      [sdp([...base, 'a=crypto:1 AES_CM_128_HMAC_SHA1_80']), '"a=crypto:1 AES_CM_128_HMAC_SHA1_80": expected "a=crypto:<tag> <suite> <key params> [<session params>]"'],
      [sdp([...base.slice(0, 3), 'c=IN IP5 192.0.2.1', ...base.slice(4)]), '"c=IN IP5 192.0.2.1": the address type must be IP4 or IP6, not "IP5"'],
      [sdp([...base, 'b=AS:lots']), '"b=AS:lots": b=AS must be an integer from 0 to 4294967295, not "lots"'],
      ['v=0\r\n' + 'a=x\r\n'.repeat(MAX_SDP_BYTES / 5), `the SDP is larger than ${MAX_SDP_BYTES} bytes`],
    ];
    for (const [text, message] of cases) expect(() => parseSdp(text), message).toThrow(new SdpError(message));
  });

  it('keeps media without an address when they are disabled (port 0), and IPv6 and multicast connections', () => {
    const session = parseSdp('v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=video 5000/2 RTP/AVP 96\r\nc=IN IP4 233.252.0.1/127/2\r\n');
    expect(session.origin.addressType).toBe('IP6');
    expect(session.media[1]).toMatchObject({ port: 5000, portCount: 2, connection: { addressType: 'IP4', address: '233.252.0.1', ttl: 127, addressCount: 2 } });
  });
});

describe('writeSdp', () => {
  it('gives back what parseSdp read, for every offer and for our answers to them', () => {
    for (const offer of ALL_OFFERS) {
      const session = parseSdp(offer);
      const written = writeSdp(session);
      expect(parseSdp(written)).toEqual(session);
      expect(writeSdp(parseSdp(written))).toBe(written);
      expect(written).toMatch(/^v=0\r\no=[^\n]+\r\ns=[^\n]+\r\n/);
      expect(written.split('\r\n').every((line) => !/\s$/.test(line) && !line.includes('\n'))).toBe(true);
    }
    for (const offer of ALL_OFFERS.slice(0, -1)) {
      const answer = answerOffer(offer, LOCAL);
      expect(parseSdp(answer.sdp)).toEqual(answer.session);
    }
  });

  it('writes the lines of an offer it does not type in RFC 4566 order', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\ni=info\r\nu=http://example.com\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nr=7d 1h 0 25h\r\na=tool:x\r\nm=audio 5000 RTP/AVP 0\r\ni=mic\r\nk=prompt\r\na=sendonly\r\n';
    expect(writeSdp(parseSdp(text))).toBe(text);
  });
});
