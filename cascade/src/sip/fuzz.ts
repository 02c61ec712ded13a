// Fuzzing of the SIP parsers, run by cascade/test/sip-fuzz.test.ts and scripts/fuzz-sip.mjs.
// Generated messages must parse back to what was generated; mutated ones (bit flips, truncation,
// injected headers, random bytes) may be refused, but only with SipParseError. Anything parsed must
// serialize to text that parses to the same message. Every other input also goes through the
// stream parser in random chunks.
import { isDeepStrictEqual } from 'node:util';
import { parseDigestChallenge, parseDigestCredentials } from './digest.js';
import { SipParseError } from './errors.js';
import * as typed from './headers.js';
import type { SipParams } from './lexer.js';
import { isSipRequest, type SipMessage } from './message.js';
import { parseSipDatagram, SipStreamParser } from './parse.js';
import { serializeSipMessage } from './serialize.js';
import { formatSipUri, parseSipUri, type SipUri } from './uri.js';

export interface SipFuzzOptions {
  iterations: number;
  seed?: number;
  /** An input taking longer than this is reported as a failure (default 500 ms: a hang, not a busy machine). */
  slowMs?: number;
}

export interface SipFuzzFailure {
  iteration: number;
  problem: string;
  /** The input, base64. */
  input: string;
}

export interface SipFuzzReport {
  iterations: number;
  accepted: number;
  rejected: number;
  slowestMs: number;
  elapsedMs: number;
  /** At most 20. */
  failures: SipFuzzFailure[];
}

/** Generated messages kept for mutation; a new one replaces a random one every GENERATE_ONE_IN inputs. */
const CORPUS_SIZE = 64;
const GENERATE_ONE_IN = 8;

export function fuzzSipParsers({ iterations, seed = 1, slowMs = 500 }: SipFuzzOptions): SipFuzzReport {
  const random = new Random(seed);
  const report: SipFuzzReport = { iterations, accepted: 0, rejected: 0, slowestMs: 0, elapsedMs: 0, failures: [] };
  const started = performance.now();
  const corpus: Generated[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    const fresh = corpus.length < CORPUS_SIZE || random.int(GENERATE_ONE_IN) === 0;
    const generated = fresh ? generateMessage(random) : random.pick(corpus);
    if (fresh) corpus[corpus.length < CORPUS_SIZE ? corpus.length : random.int(CORPUS_SIZE)] = generated;
    const input = fresh ? generated.wire : mutateMessage(random, generated.wire);
    const inputStarted = performance.now();
    let problem: string | undefined;
    try {
      const accepted = checkDatagram(input, fresh ? generated : undefined);
      if (accepted) report.accepted++;
      else report.rejected++;
      if (iteration % 2 === 0) checkStream(random, input);
    } catch (error) {
      problem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const ms = performance.now() - inputStarted;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (!problem && ms > slowMs) problem = `took ${ms.toFixed(1)} ms`;
    if (problem && report.failures.length < 20) report.failures.push({ iteration, problem, input: input.toString('base64') });
  }
  report.elapsedMs = performance.now() - started;
  return report;
}

interface Generated {
  wire: Buffer;
  uri: SipUri;
  via: typed.Via;
  from: typed.NameAddr;
  body: Buffer;
}

/** True when parsed, false when refused with SipParseError; throws on anything else. */
function checkDatagram(input: Buffer, generated: Generated | undefined): boolean {
  let message: SipMessage;
  try {
    message = parseSipDatagram(input);
  } catch (error) {
    if (error instanceof SipParseError && !generated) return false;
    throw error;
  }
  const wire = serializeSipMessage(message);
  const again = serializeSipMessage(parseSipDatagram(wire));
  if (!again.equals(wire)) throw new Error('serialize → parse → serialize changed the message');
  checkTypedHeaders(message);
  if (generated) {
    const same = (what: string, actual: unknown, expected: unknown) => {
      if (!isDeepStrictEqual(actual, expected)) {
        throw new Error(`generated ${what} came back as ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}`);
      }
    };
    if (isSipRequest(message)) same('Request-URI', message.uri, generated.uri);
    same('Via', typed.parseVia(message.headers.get('Via') ?? ''), generated.via);
    same('From', typed.parseNameAddr(message.headers.get('From') ?? ''), generated.from);
    same('body', message.body, generated.body);
  }
  return true;
}

const TYPED_HEADERS: Record<string, (value: string) => unknown> = {
  Via: (value) => sameAfterFormat(typed.parseVia(value), typed.formatVia, typed.parseVia),
  From: (value) => sameAfterFormat(typed.parseNameAddr(value), typed.formatNameAddr, typed.parseNameAddr),
  To: typed.parseNameAddr,
  Route: typed.parseNameAddr,
  'Record-Route': typed.parseNameAddr,
  Contact: typed.parseContact,
  CSeq: typed.parseCSeq,
  'Content-Type': typed.parseContentType,
  'Session-Expires': typed.parseSessionExpires,
  'Min-SE': typed.parseMinSE,
  Reason: typed.parseReason,
  'WWW-Authenticate': parseDigestChallenge,
  Authorization: parseDigestCredentials,
};

function sameAfterFormat<T>(parsed: T, format: (value: T) => string, parse: (text: string) => T): void {
  if (!isDeepStrictEqual(parse(format(parsed)), parsed)) throw new Error(`format → parse changed ${format(parsed)}`);
}

/** Typed parsers may refuse what the message parser let through, but only with SipParseError. */
function checkTypedHeaders(message: SipMessage): void {
  if (isSipRequest(message)) sameAfterFormat(message.uri, formatSipUri, parseSipUri);
  for (const [name, parse] of Object.entries(TYPED_HEADERS)) {
    for (const value of message.headers.getAll(name)) {
      try {
        parse(value);
      } catch (error) {
        if (!(error instanceof SipParseError)) throw error;
      }
    }
  }
}

function checkStream(random: Random, input: Buffer): void {
  const parser = new SipStreamParser();
  try {
    for (let offset = 0; offset < input.length; ) {
      const size = 1 + random.int(Math.min(input.length - offset, 1 + random.int(700)));
      parser.feed(input.subarray(offset, offset + size));
      offset += size;
    }
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
  }
}

const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'UPDATE', 'REFER', 'NOTIFY', 'X-VENDOR'];
const TEXT_CHARS = 'abcXYZ019 -_.!~*\'()&=+$,;?/:@[]%<>"\\#张三会议室，市县';
const TOKEN_CHARS = 'abcxyz0189-.!%*_+`\'~';
const COMPACT: Record<string, string> = {
  Via: 'v', From: 'f', To: 't', 'Call-ID': 'i', Contact: 'm', 'Content-Type': 'c', Supported: 'k', Subject: 's',
};

function generateMessage(random: Random): Generated {
  const uri = generateUri(random);
  const via: typed.Via = {
    transport: random.pick(['UDP', 'TCP', 'TLS', 'WS']),
    host: generateHost(random),
    branch: `z9hG4bK${random.text(TOKEN_CHARS, 1, 12)}`,
    params: {},
  };
  if (random.int(2)) via.port = random.int(65536);
  if (random.int(3) === 0) via.params[random.text('abcxyz', 1, 6)] = random.int(2) ? null : random.text(TOKEN_CHARS, 1, 8);
  if (random.int(2)) via.received = random.pick(['10.0.0.9', '2001:db8::9']);
  if (random.int(2)) via.rport = random.int(2) ? true : random.int(65536);
  const from: typed.NameAddr = { uri: generateUri(random), params: { tag: random.text(TOKEN_CHARS, 1, 10) } };
  if (random.int(2)) from.displayName = random.text(TEXT_CHARS, 1, 16);
  const body = random.pick([Buffer.alloc(0), Buffer.from('v=0\r\n\r\no=- 1 1 IN IP4 1.2.3.4\r\n'), random.bytes(random.int(300))]);

  const isResponse = random.int(3) === 0;
  const startLine = isResponse
    ? `SIP/2.0 ${100 + random.int(600)} ${random.text(TEXT_CHARS, 0, 20)}`
    : `${random.pick(METHODS)} ${formatSipUri(uri)} SIP/2.0`;
  const contacts = Array.from({ length: 1 + random.int(3) }, () =>
    typed.formatNameAddr({ uri: generateUri(random), params: { expires: String(random.int(7200)) } }),
  );
  const headers: [string, string][] = [
    ['Via', typed.formatVia(via)],
    ['From', typed.formatNameAddr(from)],
    ['To', typed.formatNameAddr({ uri: generateUri(random), params: {} })],
    ['Call-ID', `${random.text(TOKEN_CHARS, 1, 20)}@${generateHost(random)}`],
    ['CSeq', `${random.int(2 ** 31)} ${random.pick(METHODS)}`],
    ['Contact', contacts.join(', ')],
    ['Supported', 'timer, replaces'],
    ['Subject', random.text(TEXT_CHARS, 1, 30).trim() || 'x'],
    ['Content-Type', 'application/sdp'],
  ];
  if (random.int(2)) headers.push(['Via', `SIP/2.0/UDP ${random.pick(['[::1]:5060', 'proxy.example.cn'])};branch=z9hG4bK2`]);
  random.shuffle(headers, 1);
  const lines = headers.map(([name, value]) => `${random.int(3) === 0 ? (COMPACT[name] ?? name) : name}: ${fold(random, value)}`);
  const wire = Buffer.concat([Buffer.from(`${[startLine, ...lines, `Content-Length: ${body.length}`].join('\r\n')}\r\n\r\n`), body]);
  return { wire, uri: isResponse ? from.uri : uri, via, from, body };
}

/** Folds at one space that has no space beside it, which unfolding gives back exactly. */
function fold(random: Random, value: string): string {
  const spaces = [...value.matchAll(/(?<! ) (?! )/g)].map((match) => match.index);
  if (spaces.length === 0 || random.int(4) !== 0) return value;
  const at = random.pick(spaces);
  return `${value.slice(0, at)}\r\n${random.pick([' ', '\t', '   '])}${value.slice(at + 1)}`;
}

function generateUri(random: Random): SipUri {
  const params: SipParams = {};
  for (let i = random.int(3); i > 0; i--) {
    params[random.text('abcxyz-', 1, 8)] = random.int(3) === 0 ? null : random.text(TEXT_CHARS, 0, 10);
  }
  if (random.int(6) === 0) return { scheme: 'tel', user: random.text('+0123456789-', 1, 15), host: '', params, headers: {} };
  const uri: SipUri = { scheme: random.pick(['sip', 'sips']), host: generateHost(random), params, headers: {} };
  if (random.int(4) !== 0) uri.user = random.text(TEXT_CHARS, 1, 12);
  if (uri.user !== undefined && random.int(8) === 0) uri.password = random.text(TEXT_CHARS, 0, 8);
  if (random.int(2)) uri.port = random.int(65536);
  if (random.int(8) === 0) uri.headers[random.text('abcXYZ', 1, 6)] = random.text(TEXT_CHARS, 0, 10);
  return uri;
}

function generateHost(random: Random): string {
  switch (random.int(3)) {
    case 0:
      return `${random.int(256)}.${random.int(256)}.${random.int(256)}.${random.int(256)}`;
    case 1:
      return random.pick(['::1', '2001:db8::9:1', 'fe80::1:2:3:4', '::ffff:10.0.0.1']);
    default:
      return `${random.text('abcxyz019', 1, 8)}.${random.pick(['example.cn', 'gov', 'local'])}`;
  }
}

const INJECTED_LINES = [
  'Content-Length: 99999', 'Content-Length: -1', 'l: 0', 'CSeq: 1', 'Via: SIP/2.0/UDP', 'Via: SIP/2.0/UDP [::1', 'From: "unterminated <sip:a@b>',
  'To: <sip:a@b', 'Contact: *', 'Contact: <sip:a@b>;expires=x, <>', ' folded continuation', '\tfolded', ': no name', 'No-Colon',
  'Route: <sip:a@b;lr>,,,', 'Session-Expires: 90;refresher=', 'WWW-Authenticate: Digest realm="r", nonce="n", qop="auth"',
  'Authorization: Digest username="u", realm="r", nonce="n", uri="sip:a", response="00", qop=auth, nc=1, cnonce="c"',
  'Reason: SIP;cause=99999999999', 'constructor: x', '__proto__: y', 'toString: z', 'X: <sip:a@b>;constructor;__proto__=1', 'Content-Type: /', `X-Long: ${'x'.repeat(9000)}`, '\u0000', 'Call-ID: ', 'i: 二', 'CSeq: 4294967296 INVITE',
];
const INJECTED_TOKENS = [
  '\r\n', '\r\n\r\n', '\n', '\r', '"', '\\', '<', '>', ';', ',', ':', '%', '%2', '@', '[', ']', '?', '=', ' ', '\t', '\u0000', '\u00ff', '张',
];

function mutateMessage(random: Random, wire: Buffer): Buffer {
  const data = Buffer.from(wire);
  switch (random.int(6)) {
    case 0:
      for (let flips = 1 + random.int(8); flips > 0 && data.length > 0; flips--) {
        const at = random.int(data.length);
        data[at] = (data[at] ?? 0) ^ (1 << random.int(8));
      }
      return data;
    case 1:
      return data.subarray(0, random.int(data.length + 1));
    case 2: {
      const lineStarts = [...data.toString('latin1').matchAll(/\n/g)].map((match) => match.index + 1);
      const at = lineStarts.length > 0 ? random.pick(lineStarts) : 0;
      return Buffer.concat([data.subarray(0, at), Buffer.from(`${random.pick(INJECTED_LINES)}\r\n`), data.subarray(at)]);
    }
    case 3: {
      const at = random.int(data.length + 1);
      const cut = random.int(4);
      return Buffer.concat([data.subarray(0, at), Buffer.from(random.pick(INJECTED_TOKENS)), data.subarray(at + cut)]);
    }
    case 4:
      return random.bytes(random.int(2000));
    default: {
      const at = random.int(data.length + 1);
      return Buffer.concat([data.subarray(0, at), data.subarray(random.int(data.length + 1))]);
    }
  }
}

/** mulberry32: a small seeded generator, so a failing seed reproduces. */
class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  text(alphabet: string, min: number, max: number): string {
    const chars = [...alphabet];
    let text = '';
    for (let length = min + this.int(max - min + 1); length > 0; length--) text += this.pick(chars);
    return text;
  }

  bytes(length: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = this.int(256);
    return bytes;
  }

  /** Shuffles items after the first `keep`. */
  shuffle<T>(items: T[], keep: number): void {
    for (let i = items.length - 1; i > keep; i--) {
      const j = keep + this.int(i - keep + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
  }
}
