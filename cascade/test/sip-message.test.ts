// SIP message parsing, serialization and framing against what MCUs and room terminals send.
import { describe, expect, it } from 'vitest';
import { SipParseError } from '../src/sip/errors.js';
import {
  formatContact,
  formatContentType,
  formatCSeq,
  formatNameAddr,
  formatReason,
  formatSessionExpires,
  formatVia,
  parseContact,
  parseContentType,
  parseCSeq,
  parseMinSE,
  parseNameAddr,
  parseNumberHeader,
  parseReason,
  parseSessionExpires,
  parseValueWithParams,
  parseVia,
} from '../src/sip/headers.js';
import { isSipRequest, responseTo, SipHeaders, type SipMessage, type SipRequest, type SipResponse } from '../src/sip/message.js';
import { DEFAULT_SIP_PARSE_LIMITS, parseSipDatagram, SipStreamParser } from '../src/sip/parse.js';
import { serializeSipMessage } from '../src/sip/serialize.js';
import { formatSipUri, parseSipUri } from '../src/sip/uri.js';

/** Wire text: the head lines, Content-Length of the body, the empty line, the body. */
function sip(head: string[], body = ''): Buffer {
  return Buffer.from(`${[...head, `Content-Length: ${Buffer.byteLength(body)}`].join('\r\n')}\r\n\r\n${body}`);
}

const lines = (...text: string[]) => text.map((line) => `${line}\r\n`).join('');

const POLYCOM_SDP = lines(
  'v=0',
  'o=- 1700000000 1 IN IP4 10.20.0.5',
  's=-',
  'c=IN IP4 10.20.0.5',
  'b=AS:2048',
  't=0 0',
  'm=audio 49170 RTP/AVP 9 0 8 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'm=video 49172 RTP/AVP 109 110 96',
  'a=rtpmap:109 H264/90000',
  'a=fmtp:109 profile-level-id=64001f; max-br=2048; max-mbps=245760',
  'a=rtpmap:110 H264/90000',
  'a=fmtp:110 profile-level-id=42801f; max-br=2048',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 profile-level-id=42801f; packetization-mode=1; max-br=2048',
  'a=rtcp-fb:* nack pli',
  'a=rtcp-fb:* ccm fir',
  'a=rtcp-fb:* ccm tmmbr',
  'a=sendrecv',
);

const MCU_INVITE = sip(
  [
    'INVITE sip:8001@10.10.1.20:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 10.20.0.5:5060;branch=z9hG4bK-3bd1a7c2;rport',
    'Max-Forwards: 70',
    'From: "RMX 2000" <sip:rmx@10.20.0.5>;tag=dc6a3b0f-1a2b',
    'To: <sip:8001@10.10.1.20>',
    'Call-ID: 6ff5a1f0-4b3a@10.20.0.5',
    'CSeq: 1 INVITE',
    'Contact: <sip:rmx@10.20.0.5:5060;transport=udp>',
    'Supported: timer, replaces, 100rel',
    'Session-Expires: 1800;refresher=uac',
    'Min-SE: 90',
    'Allow: INVITE, ACK, CANCEL, BYE, INFO, OPTIONS, UPDATE, REFER, NOTIFY',
    'User-Agent: Polycom RMX 2000/8.7.5',
    'Content-Type: application/sdp',
  ],
  POLYCOM_SDP,
);

const COMPACT_INVITE = Buffer.from(
  lines(
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'v: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds7',
    'f: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    't: <sip:bob@biloxi.example.com>',
    'i: a84b4c76e66710',
    'CSeq: 314159 INVITE',
    'm: <sip:alice@192.0.2.4>',
    'k: timer, 100rel',
    'x: 1800;refresher=uac',
    'o: conference',
    's: weekly',
    'r: <sip:carol@example.com>',
    'e: gzip',
    'c: text/plain',
    'l: 5',
    '',
  ) + 'hello',
);

const FOLDED_OPTIONS = Buffer.from(
  lines(
    'OPTIONS sip:mcu@10.0.0.9 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa1,',
    '  SIP/2.0/TCP 10.0.0.2:5061;branch=z9hG4bKb2',
    'From: <sip:zte@10.0.0.1>;tag=7',
    'To: <sip:mcu@10.0.0.9>',
    'Call-ID: folded-1',
    'CSeq: 8 OPTIONS',
    'Subject: I know you are there,',
    '\t pick up the phone',
    'Accept: application/sdp',
    'Content-Length: 0',
    '',
  ),
);

const CHINESE_REGISTER = sip([
  'REGISTER sip:gov.example.cn SIP/2.0',
  'Via: SIP/2.0/TCP [2001:db8::9:1]:5070;branch=z9hG4bK-ipv6;received=2001:db8::9:255;rport=40123',
  'Via: SIP/2.0/UDP 10.1.1.2;branch=z9hG4bK-second;rport',
  'Max-Forwards: 69',
  'From: "张三（市政府）" <sip:1001@gov.example.cn>;tag=a1',
  'To: 县会议室 <sip:1001@gov.example.cn>',
  'Call-ID: reg-1@2001:db8::9:1',
  'CSeq: 20 REGISTER',
  'Contact: <sip:1001@[2001:db8::9:1]:5070;transport=tcp>;expires=3600;+sip.instance="<urn:uuid:f81d4fae>", "备用" <sip:1001@10.1.1.2>;expires=60',
  'Expires: 3600',
  'Subject: 市县乡视频会议',
]);

const HUAWEI_401 = sip([
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 10.10.1.20:5060;branch=z9hG4bK776asdhds;received=10.10.1.20;rport=5060',
  'Record-Route: <sip:10.0.0.1;lr>, <sip:10.0.0.2;lr>',
  'Record-Route: <sip:10.0.0.3;lr;transport=tcp>',
  'From: <sip:cityconf@10.10.1.20>;tag=88sja8x',
  'To: <sip:8001@mcu.example.cn>;tag=f3a',
  'Call-ID: a84b4c76e66710@pc33',
  'CSeq: 1 INVITE',
  'WWW-Authenticate: Digest realm="huawei.com", nonce="1a2b3c4d5e", opaque="6f7e", algorithm=MD5, qop="auth,auth-int"',
  'Server: Huawei SMC3.0',
]);

const KEYFRAME_XML =
  '<?xml version="1.0" encoding="utf-8" ?>\r\n<media_control><vc_primitive><to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>';

const KEYFRAME_INFO = sip(
  [
    'INFO sip:rmx@10.20.0.5:5060;transport=udp SIP/2.0',
    'Via: SIP/2.0/UDP 10.10.1.20:5060;branch=z9hG4bK-info1',
    'Max-Forwards: 70',
    'From: <sip:8001@10.10.1.20>;tag=ours1',
    'To: "RMX 2000" <sip:rmx@10.20.0.5>;tag=dc6a3b0f-1a2b',
    'Call-ID: 6ff5a1f0-4b3a@10.20.0.5',
    'CSeq: 2 INFO',
    'Content-Type: application/media_control+xml',
  ],
  KEYFRAME_XML,
);

const OK_200 = sip(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 10.20.0.5:5060;branch=z9hG4bK-3bd1a7c2;rport=5060;received=10.20.0.5',
    'From: "RMX 2000" <sip:rmx@10.20.0.5>;tag=dc6a3b0f-1a2b',
    'To: <sip:8001@10.10.1.20>;tag=ours1',
    'Call-ID: 6ff5a1f0-4b3a@10.20.0.5',
    'CSeq: 1 INVITE',
    'Contact: <sip:8001@10.10.1.20:5060>',
    'Require: timer',
    'Session-Expires: 1800;refresher=uac',
    'Reason: SIP;cause=200;text="Call completed elsewhere"',
    'Content-Type: application/sdp',
  ],
  POLYCOM_SDP,
);

const SAMPLES = { MCU_INVITE, COMPACT_INVITE, FOLDED_OPTIONS, CHINESE_REGISTER, HUAWEI_401, KEYFRAME_INFO, OK_200 };

function request(data: Buffer): SipRequest {
  const message = parseSipDatagram(data);
  if (!isSipRequest(message)) throw new Error('expected a request');
  return message;
}

function response(data: Buffer): SipResponse {
  const message = parseSipDatagram(data);
  if (isSipRequest(message)) throw new Error('expected a response');
  return message;
}

function parseError(run: () => unknown): SipParseError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SipParseError);
    return error as SipParseError;
  }
  throw new Error('expected a SipParseError');
}

describe('parseSipDatagram', () => {
  it('reads an MCU INVITE with its SDP offer', () => {
    const invite = request(MCU_INVITE);
    expect(invite.method).toBe('INVITE');
    expect(invite.uri).toEqual({ scheme: 'sip', user: '8001', host: '10.10.1.20', port: 5060, params: {}, headers: {} });
    expect(invite.rawUri).toBe('sip:8001@10.10.1.20:5060');
    expect(invite.body.toString()).toBe(POLYCOM_SDP);
    expect(parseVia(invite.headers.get('via') ?? '')).toEqual({ transport: 'UDP', host: '10.20.0.5', port: 5060, branch: 'z9hG4bK-3bd1a7c2', rport: true, params: {} });
    expect(parseNameAddr(invite.headers.get('From') ?? '')).toMatchObject({ displayName: 'RMX 2000', params: { tag: 'dc6a3b0f-1a2b' } });
    expect(parseCSeq(invite.headers.get('cseq') ?? '')).toEqual({ seq: 1, method: 'INVITE' });
    expect(invite.headers.getAll('Supported')).toEqual(['timer', 'replaces', '100rel']);
    expect(invite.headers.getAll('Allow')).toHaveLength(9);
    expect(parseSessionExpires(invite.headers.get('Session-Expires') ?? '')).toEqual({ seconds: 1800, refresher: 'uac', params: {} });
    expect(parseMinSE(invite.headers.get('Min-SE') ?? '')).toBe(90);
    expect(parseContentType(invite.headers.get('Content-Type') ?? '')).toEqual({ mediaType: 'application/sdp', params: {} });
    const contact = parseContact(invite.headers.get('Contact') ?? '');
    expect(contact !== '*' && contact.uri.params).toEqual({ transport: 'udp' });
  });

  it('expands compact header names', () => {
    const invite = request(COMPACT_INVITE);
    expect([...invite.headers].map((header) => header.name)).toEqual([
      'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Supported', 'Session-Expires', 'Event', 'Subject',
      'Refer-To', 'Content-Encoding', 'Content-Type', 'Content-Length',
    ]);
    expect(invite.headers.get('i')).toBe('a84b4c76e66710');
    expect(invite.headers.get('CALL-ID')).toBe('a84b4c76e66710');
    expect(invite.body.toString()).toBe('hello');
    expect(serializeSipMessage(invite).toString()).toContain('\r\nCall-ID: a84b4c76e66710\r\n');
  });

  it('unfolds continuation lines and splits list headers on top-level commas', () => {
    const options = request(FOLDED_OPTIONS);
    expect(options.headers.get('Subject')).toBe('I know you are there, pick up the phone');
    expect(options.headers.getAll('Via').map((via) => parseVia(via).host)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(options.headers.getAll('Subject')).toHaveLength(1);
  });

  it('reads IPv6 Vias with received and rport, several Contacts, and Chinese display names', () => {
    const register = request(CHINESE_REGISTER);
    const [first, second] = register.headers.getAll('Via').map(parseVia);
    expect(first).toEqual({
      transport: 'TCP',
      host: '2001:db8::9:1',
      port: 5070,
      branch: 'z9hG4bK-ipv6',
      received: '2001:db8::9:255',
      rport: 40123,
      params: {},
    });
    expect(second).toMatchObject({ host: '10.1.1.2', rport: true });
    expect(parseNameAddr(register.headers.get('From') ?? '').displayName).toBe('张三（市政府）');
    expect(parseNameAddr(register.headers.get('To') ?? '').displayName).toBe('县会议室');
    expect(register.headers.get('Subject')).toBe('市县乡视频会议');
    const contacts = register.headers.getAll('Contact').map(parseContact);
    expect(contacts).toEqual([
      {
        uri: { scheme: 'sip', user: '1001', host: '2001:db8::9:1', port: 5070, params: { transport: 'tcp' }, headers: {} },
        params: { expires: '3600', '+sip.instance': '"<urn:uuid:f81d4fae>"' },
      },
      { displayName: '备用', uri: { scheme: 'sip', user: '1001', host: '10.1.1.2', params: {}, headers: {} }, params: { expires: '60' } },
    ]);
    expect(parseContact('*')).toBe('*');
  });

  it('reads a 401 with its challenge and Record-Routes in order', () => {
    const unauthorized = response(HUAWEI_401);
    expect(unauthorized).toMatchObject({ status: 401, reason: 'Unauthorized', version: 'SIP/2.0' });
    expect(unauthorized.headers.getAll('Record-Route').map((route) => formatSipUri(parseNameAddr(route).uri))).toEqual([
      'sip:10.0.0.1;lr',
      'sip:10.0.0.2;lr',
      'sip:10.0.0.3;lr;transport=tcp',
    ]);
    expect(unauthorized.headers.getAll('WWW-Authenticate')).toHaveLength(1);
  });

  it('reads an RFC 5168 keyframe request and a 200 with a Reason', () => {
    const info = request(KEYFRAME_INFO);
    expect(info.uri.params).toEqual({ transport: 'udp' });
    expect(parseContentType(info.headers.get('c') ?? '').mediaType).toBe('application/media_control+xml');
    expect(info.body.toString()).toContain('<picture_fast_update/>');
    const ok = response(OK_200);
    expect(parseVia(ok.headers.get('Via') ?? '')).toMatchObject({ rport: 5060, received: '10.20.0.5' });
    expect(parseReason(ok.headers.get('Reason') ?? '')).toEqual({ protocol: 'SIP', cause: 200, text: 'Call completed elsewhere', params: {} });
  });

  it.each(Object.entries(SAMPLES))('round-trips %s through serialize and parse', (_name, data) => {
    const message = parseSipDatagram(data);
    const wire = serializeSipMessage(message);
    expect(parseSipDatagram(wire)).toEqual(message);
    expect(serializeSipMessage(parseSipDatagram(wire)).equals(wire)).toBe(true);
  });

  it('compares headers by content, so round-trip equality means something', () => {
    const message = parseSipDatagram(MCU_INVITE);
    const changed = parseSipDatagram(MCU_INVITE);
    changed.headers.set('Max-Forwards', '69');
    expect(changed).not.toEqual(message);
  });

  it('takes the rest of the datagram as the body without Content-Length, and ignores bytes beyond it', () => {
    const head = ['MESSAGE sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:c@d>;tag=1', 'To: <sip:a@b>', 'Call-ID: x', 'CSeq: 1 MESSAGE'];
    expect(parseSipDatagram(Buffer.from(`${head.join('\r\n')}\r\n\r\nhi there`)).body.toString()).toBe('hi there');
    expect(parseSipDatagram(Buffer.from(`${head.join('\r\n')}\r\nContent-Length: 2\r\n\r\nhi there`)).body.toString()).toBe('hi');
    expect(parseSipDatagram(Buffer.from(`\r\n${head.join('\n')}\nl: 0\n\n`)).headers.get('Call-ID')).toBe('x');
  });
});

describe('parse errors', () => {
  const INVITE_LINES = MCU_INVITE.toString().split('\r\n');
  const without = (name: string) => Buffer.from(INVITE_LINES.filter((line) => !line.startsWith(`${name}:`)).join('\r\n'));

  it.each(['CSeq', 'Call-ID', 'From', 'To', 'Via'])('names a missing %s', (name) => {
    expect(parseError(() => parseSipDatagram(without(name))).message).toContain(`no ${name} header`);
  });

  it('rejects a bad start line, bad CSeq, duplicate Content-Length and header junk with what and where', () => {
    const replace = (from: string, to: string) => Buffer.from(MCU_INVITE.toString().replace(from, to));
    expect(parseError(() => parseSipDatagram(replace('INVITE sip:8001@10.10.1.20:5060 SIP/2.0', 'INVITE  SIP/2.0'))).message).toMatch(/bad start line/);
    expect(parseError(() => parseSipDatagram(replace('INVITE sip:8001', 'INVITE http:8001'))).message).toMatch(/Request-URI/);
    expect(parseError(() => parseSipDatagram(replace('CSeq: 1 INVITE', 'CSeq: one INVITE'))).message).toMatch(/CSeq/);
    expect(parseError(() => parseSipDatagram(replace('Min-SE: 90', 'Content-Length: 3'))).message).toMatch(/2 Content-Length headers/);
    expect(parseError(() => parseSipDatagram(replace('Min-SE: 90', 'Min-SE 90'))).message).toMatch(/header 10 \("Min-SE 90"\) is not "Name: value"/);
    expect(parseError(() => parseSipDatagram(replace('Max-Forwards: 70', ' Max-Forwards: 70').subarray(0, 60))).message).toMatch(/truncated/);
  });

  it('rejects a Content-Length larger than the datagram body', () => {
    const data = Buffer.from(MCU_INVITE.toString().replace(/Content-Length: \d+/, 'Content-Length: 9999'));
    expect(parseError(() => parseSipDatagram(data)).message).toMatch(/Content-Length is 9999 but the datagram holds \d+ bytes/);
  });

  it('enforces the size, header count and line length limits', () => {
    const bigBody = sip(['MESSAGE sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:c@d>;tag=1', 'To: <sip:a@b>', 'Call-ID: x', 'CSeq: 1 MESSAGE'], 'x'.repeat(70_000));
    expect(parseError(() => parseSipDatagram(bigBody)).message).toMatch(/over the 65536-byte limit/);
    const manyHeaders = sip([...INVITE_LINES.slice(0, 10), ...Array.from({ length: 200 }, (_, i) => `X-H${i}: ${i}`)]);
    expect(parseError(() => parseSipDatagram(manyHeaders)).message).toMatch(/210 headers, over the limit of 200/);
    const longLine = sip([...INVITE_LINES.slice(0, 10), `X-Long: ${'y'.repeat(9000)}`]);
    expect(parseError(() => parseSipDatagram(longLine)).message).toMatch(/header 10 \("X-Long: y+"\) is 9008 bytes, over the 8192-byte limit/);
    expect(DEFAULT_SIP_PARSE_LIMITS).toEqual({ maxMessageBytes: 65536, maxHeaders: 200, maxHeaderLineBytes: 8192 });
  });

  it('rejects empty datagrams and keep-alives as messages', () => {
    expect(parseError(() => parseSipDatagram(Buffer.from('\r\n\r\n'))).message).toMatch(/no message/);
    expect(parseError(() => parseSipDatagram(Buffer.alloc(0))).message).toMatch(/no message/);
  });
});

describe('SipStreamParser', () => {
  const BODY_WITH_BLANK_LINE = 'first part\r\n\r\nINVITE sip:not-a-message SIP/2.0\r\n\r\n';
  const INFO_WITH_BLANK_LINE = sip(
    ['INFO sip:a@b SIP/2.0', 'Via: SIP/2.0/TCP h;branch=z9hG4bK9', 'From: <sip:c@d>;tag=1', 'To: <sip:a@b>', 'Call-ID: y', 'CSeq: 3 INFO', 'Content-Type: text/plain'],
    BODY_WITH_BLANK_LINE,
  );
  const STREAM = Buffer.concat([Buffer.from('\r\n\r\n'), MCU_INVITE, Buffer.from('\r\n\r\n'), INFO_WITH_BLANK_LINE, Buffer.from('\r\n')]);

  function frame(chunks: Buffer[]): (SipMessage | 'ping')[] {
    const parser = new SipStreamParser();
    const events: (SipMessage | 'ping')[] = [];
    parser.on('message', (message) => events.push(message));
    parser.on('ping', () => events.push('ping'));
    for (const chunk of chunks) parser.feed(chunk);
    expect(parser.buffered).toBe(2);
    return events;
  }

  const expected = ['ping', parseSipDatagram(MCU_INVITE), 'ping', parseSipDatagram(INFO_WITH_BLANK_LINE)];

  it('frames messages and pings at every split point of the stream', () => {
    for (let split = 0; split <= STREAM.length; split++) {
      expect(frame([STREAM.subarray(0, split), STREAM.subarray(split)])).toEqual(expected);
    }
  });

  it('frames a stream fed one byte at a time, keeping a body that holds CRLFCRLF', () => {
    const events = frame([...STREAM].map((byte) => Buffer.of(byte)));
    expect(events).toEqual(expected);
    expect((events[3] as SipMessage).body.toString()).toBe(BODY_WITH_BLANK_LINE);
  });

  it('fails on a message over the size limit and stays failed, after emitting what came before', () => {
    const parser = new SipStreamParser();
    const messages: SipMessage[] = [];
    parser.on('message', (message) => messages.push(message));
    const huge = Buffer.from(MCU_INVITE.toString().replace(/Content-Length: \d+/, 'Content-Length: 70000'));
    const error = parseError(() => parser.feed(Buffer.concat([MCU_INVITE, huge])));
    expect(error.message).toMatch(/Content-Length 70000\), over the 65536-byte limit/);
    expect(messages).toHaveLength(1);
    expect(parseError(() => parser.feed(MCU_INVITE))).toBe(error);
  });

  it('fails when no end of headers comes within the size limit', () => {
    const parser = new SipStreamParser();
    parser.feed(Buffer.from('INVITE sip:a@b SIP/2.0\r\n'));
    expect(parseError(() => parser.feed(Buffer.alloc(70_000, 'x'))).message).toMatch(/no end of headers within 65536 bytes/);
  });
});

describe('SipUri', () => {
  it.each([
    ['sip:alice@atlanta.com', { scheme: 'sip', user: 'alice', host: 'atlanta.com', params: {}, headers: {} }],
    ['sips:alice:secretword@atlanta.com;transport=tcp', { scheme: 'sips', user: 'alice', password: 'secretword', host: 'atlanta.com', params: { transport: 'tcp' }, headers: {} }],
    ['sip:+86-10-1234-5678@gw.example.cn;user=phone', { scheme: 'sip', user: '+86-10-1234-5678', host: 'gw.example.cn', params: { user: 'phone' }, headers: {} }],
    ['sip:[::1]:5061;lr', { scheme: 'sip', host: '::1', port: 5061, params: { lr: null }, headers: {} }],
    ['sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com', { scheme: 'sip', host: 'atlanta.com', params: { method: 'REGISTER' }, headers: { to: 'alice@atlanta.com' } }],
    ['sip:%E5%BC%A0%20san;isub=1@10.0.0.1', { scheme: 'sip', user: '张 san;isub=1', host: '10.0.0.1', params: {}, headers: {} }],
    ['tel:+86-10-8888-0000;phone-context=example.cn', { scheme: 'tel', user: '+86-10-8888-0000', host: '', params: { 'phone-context': 'example.cn' }, headers: {} }],
  ])('parses %s', (text, uri) => {
    expect(parseSipUri(text)).toEqual(uri);
    expect(parseSipUri(formatSipUri(parseSipUri(text)))).toEqual(uri);
  });

  it('formats with escapes only where needed and brackets IPv6', () => {
    expect(formatSipUri(parseSipUri('sip:%61lice@host'))).toBe('sip:alice@host');
    expect(formatSipUri({ scheme: 'sip', user: 'a b?', host: '2001:db8::1', port: 5060, params: { transport: 'tcp', lr: null }, headers: { subject: 'x&y' } })).toBe(
      'sip:a%20b%3F@[2001:db8::1]:5060;transport=tcp;lr?subject=x%26y',
    );
  });

  it.each(['http://a', 'sip:', 'sip:@host', 'sip:host:99999', 'sip:[::1', 'sip:a@host%zz', 'sip:a@ho st', 'tel:'])('rejects %s', (text) => {
    parseError(() => parseSipUri(text));
  });
});

describe('typed headers', () => {
  it('formats what it parses', () => {
    const via = 'SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKx;maddr=224.2.0.1;received=2001:db8::2;rport=5061';
    expect(formatVia(parseVia(via))).toBe(via);
    expect(formatVia({ transport: 'UDP', host: 'h', rport: true, params: {} })).toBe('SIP/2.0/UDP h;rport');
    const from = '"Say \\"hi\\" 你好" <sip:a@b;transport=tcp>;tag=1';
    expect(parseNameAddr(from).displayName).toBe('Say "hi" 你好');
    expect(formatNameAddr(parseNameAddr(from))).toBe(from);
    expect(formatNameAddr(parseNameAddr('sip:a@b;tag=2'))).toBe('<sip:a@b>;tag=2');
    expect(formatSessionExpires(parseSessionExpires('90;refresher=UAS'))).toBe('90;refresher=uas');
    expect(formatReason(parseReason('Q.850;cause=16;text="Normal call clearing"'))).toBe('Q.850;cause=16;text="Normal call clearing"');
    expect(parseValueWithParams('presence;id=7', 'Event')).toEqual({ value: 'presence', params: { id: '7' } });
    expect(formatCSeq(parseCSeq(' 7   BYE '))).toBe('7 BYE');
    expect(formatContact(parseContact('sip:a@b;expires=60'))).toBe('<sip:a@b>;expires=60');
    expect(formatContact('*')).toBe('*');
    expect(formatContentType(parseContentType('Application/SDP ; charset=utf-8'))).toBe('application/sdp;charset=utf-8');
    expect(parseNumberHeader(' 70 ', 'Max-Forwards')).toBe(70);
    expect(() => parseNumberHeader('-1', 'Expires')).toThrow(/^Expires: expected a number/);
  });

  it('keeps parameter names out of the prototype', () => {
    const nameAddr = parseNameAddr('<sip:a@b>;__proto__=x;tag=1');
    expect(Object.getPrototypeOf(nameAddr.params)).toBe(Object.prototype);
    expect(Object.keys(nameAddr.params)).toEqual(['__proto__', 'tag']);
  });

  it('rejects malformed values with the header name', () => {
    expect(parseError(() => parseVia('SIP/2.0 h')).message).toMatch(/^Via/);
    expect(parseError(() => parseNameAddr('"unterminated <sip:a@b>', 'From')).message).toMatch(/^From/);
    expect(parseError(() => parseCSeq('2147483648 INVITE')).message).toMatch(/^CSeq/);
    expect(parseError(() => parseSessionExpires('90;refresher=both')).message).toMatch(/^Session-Expires/);
    expect(parseError(() => parseContentType('sdp')).message).toMatch(/^Content-Type/);
    // A stray quote or "<" would swallow ;received once formatVia writes it after the other params.
    expect(parseError(() => parseVia('SIP/2.0/UDP h;branch=z9hG4bK1;received=10.0.0.9;x=a"b;/')).message).toMatch(/bad parameter value/);
    expect(parseError(() => parseVia('SIP/2.0/UDP h;received=10.0.0.9;x=a<b;y=1')).message).toMatch(/bad parameter value/);
    expect(parseNameAddr('<sip:a@b>;+sip.instance=<urn:uuid:f81d4fae>;x="a;b"').params).toEqual({ '+sip.instance': '<urn:uuid:f81d4fae>', x: '"a;b"' });
  });
});

describe('SipHeaders', () => {
  it('keeps order, matches names case-insensitively and sets in place', () => {
    const headers = new SipHeaders([['via', 'SIP/2.0/UDP a'], ['X-Custom', '1'], ['l', '0'], ['Via', 'SIP/2.0/UDP b']]);
    headers.set('VIA', 'SIP/2.0/UDP c');
    expect(headers.get('x-CUSTOM')).toBe('1');
    expect([...headers]).toEqual([
      { name: 'Via', value: 'SIP/2.0/UDP c' },
      { name: 'X-Custom', value: '1' },
      { name: 'Content-Length', value: '0' },
    ]);
    expect(headers.delete('x-custom')).toBe(true);
    expect(headers.has('X-Custom')).toBe(false);
    expect(() => headers.append('Bad Name', 'x')).toThrow(TypeError);
    expect(() => headers.append('Subject', 'a\r\nVia: injected')).toThrow(TypeError);
  });

  it('treats names that exist on Object.prototype as plain header names', () => {
    const headers = new SipHeaders([['constructor', 'x'], ['__proto__', 'y'], ['toString', 'z']]);
    expect([...headers].map((header) => header.name)).toEqual(['constructor', '__proto__', 'toString']);
    expect(headers.get('CONSTRUCTOR')).toBe('x');
  });
});

describe('responseTo', () => {
  it('copies Vias, From, To, Call-ID and CSeq, adding the to-tag (RFC 3261 §8.2.6)', () => {
    const register = request(CHINESE_REGISTER);
    const ok = responseTo(register, 200, undefined, { toTag: 'srv1', headers: [['Contact', register.headers.get('Contact') ?? ''], ['Expires', '3600']] });
    expect(ok).toMatchObject({ status: 200, reason: 'OK', version: 'SIP/2.0' });
    expect([...ok.headers].map((header) => header.name)).toEqual(['Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Expires']);
    expect(ok.headers.get('To')).toBe('县会议室 <sip:1001@gov.example.cn>;tag=srv1');
    const wire = serializeSipMessage(ok).toString();
    expect(wire.startsWith('SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP [2001:db8::9:1]:5070;')).toBe(true);
    expect(wire.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('keeps an existing to-tag and uses a given reason', () => {
    const info = request(KEYFRAME_INFO);
    const busy = responseTo(info, 486, 'Busy Here (in a meeting)', { toTag: 'other' });
    expect(busy.reason).toBe('Busy Here (in a meeting)');
    expect(parseNameAddr(busy.headers.get('To') ?? '').params).toEqual({ tag: 'dc6a3b0f-1a2b' });
  });
});
