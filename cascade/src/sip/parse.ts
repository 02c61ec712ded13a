// Reading SIP off the wire: one message per UDP datagram (RFC 3261 §18.3), or a TCP/TLS byte
// stream framed by Content-Length with RFC 5626 CRLF keep-alives between messages.
import { EventEmitter } from 'node:events';
import { SipParseError } from './errors.js';
import { parseCSeq, parseVia } from './headers.js';
import { isToken, parseUnsigned } from './lexer.js';
import { SipHeaders, type SipMessage } from './message.js';
import { parseSipUri, type SipUri } from './uri.js';

export interface SipParseLimits {
  /** Start line, headers and body together. */
  maxMessageBytes: number;
  maxHeaders: number;
  /** One header after unfolding. */
  maxHeaderLineBytes: number;
}

export const DEFAULT_SIP_PARSE_LIMITS: Readonly<SipParseLimits> = {
  maxMessageBytes: 64 * 1024,
  maxHeaders: 200,
  maxHeaderLineBytes: 8 * 1024,
};

const CR = 0x0d;
/** CTLs other than HT: never in a header value or reason phrase. */
const CONTROL_CHARACTER = /[\0-\x08\x0a-\x1f\x7f]/;
const LF = 0x0a;
const REQUIRED_HEADERS = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;
/** Headers that may appear once; two that differ would let peers disagree about the message. */
const SINGLE_HEADERS = ['From', 'To', 'Call-ID', 'CSeq', 'Content-Length'] as const;

/**
 * One message from one datagram. Without Content-Length the body is the rest of the datagram;
 * bytes beyond Content-Length are ignored. Throws only SipParseError.
 */
export function parseSipDatagram(datagram: Uint8Array, limits: SipParseLimits = DEFAULT_SIP_PARSE_LIMITS): SipMessage {
  if (datagram.length > limits.maxMessageBytes) {
    throw new SipParseError(`message is ${datagram.length} bytes, over the ${limits.maxMessageBytes}-byte limit`);
  }
  const data = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  let start = 0;
  while (data[start] === CR || data[start] === LF) start++;
  if (start === data.length) throw new SipParseError('datagram holds no message (only line breaks, or nothing)');
  const end = findHeadEnd(data, start, data.length);
  if (typeof end === 'number') throw new SipParseError('no empty line ends the headers: the message is truncated');
  const head = parseHead(data.toString('utf8', start, end.headEnd), limits);
  const available = data.length - end.bodyStart;
  const contentLength = head.contentLength ?? available;
  if (contentLength > available) {
    throw new SipParseError(`Content-Length is ${contentLength} but the datagram holds ${available} bytes of body`);
  }
  return toMessage(head, Buffer.from(data.subarray(end.bodyStart, end.bodyStart + contentLength)));
}

export interface SipStreamParserEvents {
  message: [message: SipMessage];
  /** An RFC 5626 keep-alive ping (CRLF CRLF): the transport answers with a single CRLF. */
  ping: [];
}

type StreamItem = { kind: 'message'; message: SipMessage } | { kind: 'ping' };

/**
 * Frames messages out of a TCP/TLS byte stream by Content-Length (a message without one has no
 * body). `feed` emits each complete message and ping in order; a lone CRLF between messages (a
 * pong, or padding) is skipped. Bad input makes `feed`
 * throw SipParseError, after the messages before it were emitted; the stream cannot be resynchronised
 * after that, so the parser stays failed and the transport should close the connection.
 */
export class SipStreamParser extends EventEmitter<SipStreamParserEvents> {
  #buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  /** Where the search for the end of the headers resumes, relative to #start. */
  #scanFrom = 0;
  #pending?: { head: ParsedHead; bodyStart: number; contentLength: number };
  #failure?: SipParseError;

  constructor(private readonly limits: SipParseLimits = DEFAULT_SIP_PARSE_LIMITS) {
    super();
  }

  /** Bytes received but not yet emitted. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  feed(chunk: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    this.#append(chunk);
    const ready: StreamItem[] = [];
    try {
      this.#drain(ready);
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      this.#failure = error;
    }
    for (const item of ready) {
      if (item.kind === 'message') this.emit('message', item.message);
      else this.emit('ping');
    }
    if (this.#failure) throw this.#failure;
  }

  #drain(ready: StreamItem[]): void {
    for (;;) {
      if (!this.#pending) {
        if (this.#skipKeepAlives(ready) === 'wait') return;
        const end = findHeadEnd(this.#buffer, this.#start + this.#scanFrom, this.#end);
        if (typeof end === 'number') {
          this.#scanFrom = end - this.#start;
          if (this.buffered > this.limits.maxMessageBytes) {
            throw new SipParseError(`no end of headers within ${this.limits.maxMessageBytes} bytes (the message size limit)`);
          }
          return;
        }
        const head = parseHead(this.#buffer.toString('utf8', this.#start, end.headEnd), this.limits);
        const bodyStart = end.bodyStart - this.#start;
        const contentLength = head.contentLength ?? 0;
        if (bodyStart + contentLength > this.limits.maxMessageBytes) {
          throw new SipParseError(
            `message would be ${bodyStart + contentLength} bytes (Content-Length ${contentLength}), ` +
              `over the ${this.limits.maxMessageBytes}-byte limit`,
          );
        }
        this.#pending = { head, bodyStart, contentLength };
      }
      const { head, bodyStart, contentLength } = this.#pending;
      if (this.buffered < bodyStart + contentLength) return;
      const bodyOffset = this.#start + bodyStart;
      const body = Buffer.from(this.#buffer.subarray(bodyOffset, bodyOffset + contentLength));
      this.#pending = undefined;
      this.#start = bodyOffset + contentLength;
      this.#scanFrom = 0;
      ready.push({ kind: 'message', message: toMessage(head, body) });
    }
  }

  /** Consumes CR/LF before a start line, reporting each CRLFCRLF; 'wait' when what is buffered may still become one. */
  #skipKeepAlives(ready: StreamItem[]): 'wait' | 'done' {
    const buffer = this.#buffer;
    const before = this.#start;
    while (this.#start < this.#end && (buffer[this.#start] === CR || buffer[this.#start] === LF)) {
      const available = Math.min(4, this.#end - this.#start);
      const isPingPrefix = buffer.subarray(this.#start, this.#start + available).equals(PING.subarray(0, available));
      if (isPingPrefix && available === 4) {
        ready.push({ kind: 'ping' });
        this.#start += 4;
      } else if (isPingPrefix) {
        return 'wait';
      } else {
        this.#start++;
      }
    }
    if (this.#start !== before) this.#scanFrom = 0;
    return this.#start === this.#end ? 'wait' : 'done';
  }

  #append(chunk: Uint8Array): void {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    const buffered = this.buffered;
    if (this.#end + chunk.length > this.#buffer.length) {
      const needed = buffered + chunk.length;
      const target = needed > this.#buffer.length ? Buffer.allocUnsafe(Math.max(needed, 2 * this.#buffer.length, 4096)) : this.#buffer;
      this.#buffer.copy(target, 0, this.#start, this.#end);
      this.#buffer = target;
      this.#start = 0;
      this.#end = buffered;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}

const PING = Buffer.from('\r\n\r\n');

/**
 * Where the headers starting at `from` end: `headEnd` after the last header's line break,
 * `bodyStart` after the empty line (CRLF or a bare LF). When not found yet, the offset to resume from.
 */
function findHeadEnd(data: Buffer, from: number, to: number): { headEnd: number; bodyStart: number } | number {
  let lineFeed = data.indexOf(LF, from);
  while (lineFeed >= 0 && lineFeed < to) {
    if (lineFeed + 1 >= to) return lineFeed;
    if (data[lineFeed + 1] === LF) return { headEnd: lineFeed + 1, bodyStart: lineFeed + 2 };
    if (data[lineFeed + 1] === CR) {
      if (lineFeed + 2 >= to) return lineFeed;
      if (data[lineFeed + 2] === LF) return { headEnd: lineFeed + 1, bodyStart: lineFeed + 3 };
    }
    lineFeed = data.indexOf(LF, lineFeed + 1);
  }
  return Math.max(from, to - 1);
}

type StartLine =
  | { kind: 'request'; method: string; uri: SipUri; rawUri: string; version: string }
  | { kind: 'response'; version: string; status: number; reason: string };

interface ParsedHead {
  startLine: StartLine;
  headers: SipHeaders;
  contentLength?: number;
}

function parseHead(text: string, limits: SipParseLimits): ParsedHead {
  const lines = text.split(/\r?\n/);
  while (lines.at(-1) === '') lines.pop();
  const [startText = '', ...headerLines] = lines;
  const startLine = parseStartLine(startText);

  const unfolded: string[] = [];
  for (const line of headerLines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (unfolded.length === 0) throw new SipParseError('a continuation line (starting with a space) comes before any header');
      unfolded[unfolded.length - 1] += ` ${line.trimStart()}`;
    } else {
      unfolded.push(line);
    }
  }
  if (unfolded.length > limits.maxHeaders) {
    throw new SipParseError(`message has ${unfolded.length} headers, over the limit of ${limits.maxHeaders}`);
  }

  const headers = new SipHeaders();
  unfolded.forEach((line, index) => {
    const where = () => `header ${index + 1} (${JSON.stringify(line.slice(0, 40))})`;
    if (line.length * 3 > limits.maxHeaderLineBytes && Buffer.byteLength(line) > limits.maxHeaderLineBytes) {
      throw new SipParseError(`${where()} is ${Buffer.byteLength(line)} bytes, over the ${limits.maxHeaderLineBytes}-byte limit`);
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, Math.max(colon, 0)).trimEnd();
    if (colon < 0 || !isToken(name)) throw new SipParseError(`${where()} is not "Name: value"`);
    const value = line.slice(colon + 1).trim();
    if (CONTROL_CHARACTER.test(value)) throw new SipParseError(`${where()} has a control character in its value`);
    headers.append(name, value);
  });

  checkRequiredHeaders(startLine.kind, headers);
  const contentLength = headers.get('Content-Length');
  const head: ParsedHead = { startLine, headers };
  if (contentLength !== undefined) head.contentLength = parseUnsigned(contentLength, 'Content-Length');
  return head;
}

function checkRequiredHeaders(kind: StartLine['kind'], headers: SipHeaders): void {
  for (const name of REQUIRED_HEADERS) {
    if (!headers.get(name)) throw new SipParseError(`${kind} has no ${name} header (or it is empty)`);
  }
  for (const name of SINGLE_HEADERS) {
    const count = headers.getAll(name).length;
    if (count > 1) throw new SipParseError(`${kind} has ${count} ${name} headers; one is allowed`);
  }
  parseCSeq(headers.get('CSeq') ?? '');
  parseVia(headers.get('Via') ?? '');
}

function parseStartLine(line: string): StartLine {
  const response = /^(SIP\/\d+\.\d+) ([1-6]\d\d)(?: (.*))?$/i.exec(line);
  if (response) {
    const reason = response[3] ?? '';
    if (CONTROL_CHARACTER.test(reason)) throw new SipParseError('status line has a control character in its reason phrase');
    return { kind: 'response', version: (response[1] ?? '').toUpperCase(), status: Number(response[2]), reason };
  }
  const request = /^(\S+) (\S+) (SIP\/\d+\.\d+)$/i.exec(line);
  if (!request || !isToken(request[1] ?? '')) {
    throw new SipParseError(`bad start line ${JSON.stringify(line.slice(0, 80))}: expected "METHOD uri SIP/2.0" or "SIP/2.0 code reason"`);
  }
  const rawUri = request[2] ?? '';
  try {
    return { kind: 'request', method: request[1] ?? '', uri: parseSipUri(rawUri), rawUri, version: (request[3] ?? '').toUpperCase() };
  } catch (error) {
    throw error instanceof SipParseError ? new SipParseError(`Request-URI: ${error.message}`) : error;
  }
}

function toMessage({ startLine, headers }: ParsedHead, body: Buffer): SipMessage {
  if (startLine.kind === 'response') {
    const { version, status, reason } = startLine;
    return { status, reason, version, headers, body };
  }
  const { method, uri, rawUri, version } = startLine;
  return { method, uri, rawUri, version, headers, body };
}
