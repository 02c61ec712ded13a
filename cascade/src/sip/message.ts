// The SIP message model (RFC 3261 §7): requests and responses with headers in wire order.
import { parseNameAddr } from './headers.js';
import { isToken, splitTopLevel } from './lexer.js';
import type { SipUri } from './uri.js';

export interface SipRequest {
  method: string;
  uri: SipUri;
  /** The Request-URI as received (for logs); the serializer writes `uri`. */
  rawUri: string;
  version: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  status: number;
  reason: string;
  version: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export function isSipRequest(message: SipMessage): message is SipRequest {
  return 'method' in message;
}

export interface SipHeader {
  readonly name: string;
  readonly value: string;
}

const COMPACT_FORMS = Object.entries({
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
});

const KNOWN_NAMES = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
  'Event', 'Expires', 'From', 'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'Min-SE', 'MIME-Version',
  'Organization', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Path', 'Priority', 'Privacy',
  'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route',
  'Refer-To', 'Referred-By', 'Replaces', 'Reply-To', 'Require', 'Retry-After', 'Route', 'RSeq', 'Server',
  'Service-Route', 'Session-Expires', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To',
  'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];
/** Canonical names by the name as written (exact, lower-case, compact in either case) and by lower-case name. */
const CANONICAL_NAMES = new Map<string, string>([
  ...KNOWN_NAMES.flatMap((name) => [[name, name], [name.toLowerCase(), name]] as const),
  ...COMPACT_FORMS.flatMap(([letter, name]) => [[letter, name], [letter.toUpperCase(), name]] as const),
]);

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1); others (Date, WWW-Authenticate…) are never split. */
const LIST_HEADERS = new Set(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
    'Call-Info', 'Contact', 'Content-Encoding', 'Content-Language', 'Error-Info', 'In-Reply-To',
    'P-Asserted-Identity', 'P-Preferred-Identity', 'Path', 'Proxy-Require', 'Reason', 'Record-Route',
    'Require', 'Route', 'Service-Route', 'Supported', 'Unsupported', 'Via', 'Warning',
  ].map((name) => name.toLowerCase()),
);

/** The full, conventionally cased name: compact forms expanded (`i` → `Call-ID`), unknown names kept as written. */
export function canonicalHeaderName(name: string): string {
  return CANONICAL_NAMES.get(name) ?? CANONICAL_NAMES.get(name.toLowerCase()) ?? name;
}

/**
 * Header fields in wire order. Names are matched case-insensitively and compact forms are
 * expanded on the way in; `getAll` splits list headers on top-level commas.
 */
export class SipHeaders implements Iterable<SipHeader> {
  readonly #entries: SipHeader[] = [];
  /** headerKey of each entry, so lookups do not canonicalise every name again. */
  readonly #keys: string[] = [];

  constructor(entries: Iterable<readonly [name: string, value: string]> = []) {
    for (const [name, value] of entries) this.append(name, value);
  }

  /** The first value (for a list header, its first element). */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (let index = 0; index < this.#keys.length; index++) {
      if (this.#keys[index] !== key) continue;
      const value = this.#entries[index]?.value ?? '';
      if (!LIST_HEADERS.has(key)) return value;
      const first = listElements(value)[0];
      if (first !== undefined) return first;
    }
    return undefined;
  }

  /** Every value in order; a list header's lines are split into their elements. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const values: string[] = [];
    for (let index = 0; index < this.#keys.length; index++) {
      if (this.#keys[index] !== key) continue;
      const value = this.#entries[index]?.value ?? '';
      if (LIST_HEADERS.has(key)) values.push(...listElements(value));
      else values.push(value);
    }
    return values;
  }

  has(name: string): boolean {
    return this.#keys.includes(headerKey(name));
  }

  append(name: string, value: string): this {
    const header = checkedHeader(name, value);
    this.#entries.push(header);
    this.#keys.push(header.name.toLowerCase());
    return this;
  }

  /** Replaces every line of `name` with one, where the first stood (or at the end). */
  set(name: string, value: string): this {
    const header = checkedHeader(name, value);
    const first = this.#keys.indexOf(header.name.toLowerCase());
    if (first < 0) return this.append(name, value);
    this.delete(name);
    this.#entries.splice(first, 0, header);
    this.#keys.splice(first, 0, header.name.toLowerCase());
    return this;
  }

  delete(name: string): boolean {
    const key = headerKey(name);
    let deleted = false;
    for (let index = this.#keys.lastIndexOf(key); index >= 0; index = this.#keys.lastIndexOf(key, index - 1)) {
      this.#entries.splice(index, 1);
      this.#keys.splice(index, 1);
      deleted = true;
      if (index === 0) break;
    }
    return deleted;
  }

  get size(): number {
    return this.#entries.length;
  }

  [Symbol.iterator](): Iterator<SipHeader> {
    return this.#entries[Symbol.iterator]();
  }
}

function listElements(line: string): string[] {
  return splitTopLevel(line, ',')
    .map((element) => element.trim())
    .filter((element) => element !== '');
}

function headerKey(name: string): string {
  return canonicalHeaderName(name).toLowerCase();
}

function checkedHeader(name: string, value: string): SipHeader {
  if (!isToken(name)) throw new TypeError(`invalid SIP header name ${JSON.stringify(name)}`);
  if (/[\r\n\0]/.test(value)) throw new TypeError(`SIP header ${name} has a CR, LF or NUL in its value`);
  return { name: canonicalHeaderName(name), value };
}

export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 422: 'Session Interval Too Small',
  423: 'Interval Too Brief', 480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected', 483: 'Too Many Hops', 484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export interface ResponseOptions {
  /** Added to To unless the request's To already has a tag (RFC 3261 §8.2.6.2; not for 100). */
  toTag?: string;
  /** Appended after the copied headers, in order. */
  headers?: Iterable<readonly [name: string, value: string]>;
  body?: Buffer;
}

/**
 * A response to `request` per RFC 3261 §8.2.6: Via (all, in order), From, To, Call-ID and CSeq
 * copied; Timestamp too for 100 (§8.2.6.1). Record-Route for dialogs is the dialog layer's to add.
 */
export function responseTo(
  request: SipRequest,
  status: number,
  reason = REASON_PHRASES[status] ?? '',
  options: ResponseOptions = {},
): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getAll('Via')) headers.append('Via', via);
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
    let value = request.headers.get(name);
    if (value === undefined) continue;
    if (name === 'To' && options.toTag !== undefined && parseNameAddr(value).params['tag'] === undefined) {
      value += `;tag=${options.toTag}`;
    }
    headers.append(name, value);
  }
  const timestamp = request.headers.get('Timestamp');
  if (status === 100 && timestamp !== undefined) headers.append('Timestamp', timestamp);
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  return { status, reason, version: 'SIP/2.0', headers, body: options.body ?? Buffer.alloc(0) };
}
