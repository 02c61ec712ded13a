// Typed views of the header values a B2BUA reads and writes. Each parse* takes one value (one
// element of SipHeaders.getAll) and throws SipParseError naming the header; each format* is its inverse.
import { SipParseError } from './errors.js';
import {
  formatParams,
  isToken,
  parseParams,
  parseUnsigned,
  quote,
  readQuoted,
  splitTopLevel,
  unquote,
  type SipParams,
} from './lexer.js';
import { formatHostport, formatSipUri, parseHostport, parseSipUri, type SipUri } from './uri.js';

/** A value followed by parameters: `application/sdp;charset=utf-8`, `presence;id=7`, `90;x=1`. */
export interface ValueWithParams {
  value: string;
  params: SipParams;
}

export function parseValueWithParams(text: string, header: string): ValueWithParams {
  const [value = '', ...params] = splitTopLevel(text, ';');
  return { value: value.trim(), params: parseParams(params, header) };
}

export function formatValueWithParams({ value, params }: ValueWithParams): string {
  return `${value}${formatParams(params)}`;
}

export interface Via {
  /** UDP, TCP, TLS, WS, WSS… (upper-case). */
  transport: string;
  host: string;
  port?: number;
  branch?: string;
  received?: string;
  /** `;rport` without a value (the client asks for it) is `true`. */
  rport?: number | true;
  /** The other parameters (maddr, ttl, alias…). */
  params: SipParams;
}

export function parseVia(text: string): Via {
  const match = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(.*)$/is.exec(text);
  if (!match) throw new SipParseError(`Via: expected "SIP/2.0/<transport> <host>", got ${JSON.stringify(text)}`);
  const [sentBy = '', ...paramTexts] = splitTopLevel(match[2] ?? '', ';');
  const { branch, received, rport, ...params } = parseParams(paramTexts, 'Via');
  const via: Via = { transport: (match[1] ?? '').toUpperCase(), ...parseHostport(sentBy.trim(), 'Via'), params };
  if (branch) via.branch = branch;
  if (received) via.received = received.replace(/^\[(.*)\]$/, '$1');
  if (rport === null) via.rport = true;
  else if (rport !== undefined) {
    const port = parseUnsigned(rport, 'Via rport');
    if (port > 65535) throw new SipParseError(`Via: rport ${port} is not a port`);
    via.rport = port;
  }
  return via;
}

export function formatVia(via: Via): string {
  let text = `SIP/2.0/${via.transport} ${formatHostport(via.host, via.port)}`;
  if (via.branch !== undefined) text += `;branch=${via.branch}`;
  text += formatParams(via.params);
  if (via.received !== undefined) text += `;received=${via.received}`;
  if (via.rport !== undefined) text += via.rport === true ? ';rport' : `;rport=${via.rport}`;
  return text;
}

/** From, To, Contact, Route, Record-Route, Refer-To…: `"Name" <uri>;params` or a bare `uri;params`. */
export interface NameAddr {
  displayName?: string;
  uri: SipUri;
  /** Header parameters (tag, expires, q, +sip.instance…), not the URI's own. */
  params: SipParams;
}

export function parseNameAddr(text: string, header = 'name-addr'): NameAddr {
  let rest = text.trim();
  let displayName: string | undefined;
  if (rest.startsWith('"')) {
    const quoted = readQuoted(rest, header);
    displayName = quoted.value;
    rest = rest.slice(quoted.end).trimStart();
  }
  let uriText: string;
  let paramsText: string;
  const open = rest.indexOf('<');
  if (open >= 0) {
    const close = rest.indexOf('>', open);
    if (close < 0) throw new SipParseError(`${header}: no ">" after "<" in ${JSON.stringify(text)}`);
    const name = rest.slice(0, open).trim();
    if (name !== '') {
      if (displayName !== undefined) throw new SipParseError(`${header}: text between the display name and "<" in ${JSON.stringify(text)}`);
      displayName = name;
    }
    uriText = rest.slice(open + 1, close).trim();
    paramsText = rest.slice(close + 1).trim();
    if (paramsText !== '' && !paramsText.startsWith(';')) {
      throw new SipParseError(`${header}: expected ";" after ">" in ${JSON.stringify(text)}`);
    }
  } else {
    if (displayName !== undefined) throw new SipParseError(`${header}: display name without <uri> in ${JSON.stringify(text)}`);
    const semicolon = rest.indexOf(';');
    uriText = semicolon < 0 ? rest : rest.slice(0, semicolon);
    paramsText = semicolon < 0 ? '' : rest.slice(semicolon);
  }
  let uri: SipUri;
  try {
    uri = parseSipUri(uriText);
  } catch (error) {
    throw error instanceof SipParseError ? new SipParseError(`${header}: ${error.message}`) : error;
  }
  const nameAddr: NameAddr = { uri, params: parseParams(splitTopLevel(paramsText, ';'), header) };
  if (displayName !== undefined && displayName !== '') nameAddr.displayName = displayName;
  return nameAddr;
}

export function formatNameAddr({ displayName, uri, params }: NameAddr): string {
  const name = displayName === undefined ? '' : `${quote(displayName)} `;
  return `${name}<${formatSipUri(uri)}>${formatParams(params)}`;
}

/** One Contact value: an address (with its expires, q… params) or `*` (REGISTER removing all bindings). */
export type Contact = NameAddr | '*';

export function parseContact(text: string): Contact {
  return text.trim() === '*' ? '*' : parseNameAddr(text, 'Contact');
}

export function formatContact(contact: Contact): string {
  return contact === '*' ? '*' : formatNameAddr(contact);
}

export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(text: string): CSeq {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(text);
  if (!match || !isToken(match[2] ?? '')) throw new SipParseError(`CSeq: expected "<number> <method>", got ${JSON.stringify(text)}`);
  const seq = parseUnsigned(match[1] ?? '', 'CSeq');
  if (seq >= 2 ** 31) throw new SipParseError(`CSeq: ${seq} is not below 2^31`);
  return { seq, method: match[2] ?? '' };
}

export function formatCSeq({ seq, method }: CSeq): string {
  return `${seq} ${method}`;
}

/** Content-Length, Expires, Max-Forwards, Min-Expires: a bare number. */
export function parseNumberHeader(text: string, header: string): number {
  return parseUnsigned(text, header);
}

export interface ContentType {
  /** `type/subtype`, lower-case. */
  mediaType: string;
  params: SipParams;
}

export function parseContentType(text: string): ContentType {
  const { value, params } = parseValueWithParams(text, 'Content-Type');
  const [type = '', subtype = '', extra] = value.split('/').map((part) => part.trim());
  if (!isToken(type) || !isToken(subtype) || extra !== undefined) {
    throw new SipParseError(`Content-Type: expected "type/subtype", got ${JSON.stringify(text)}`);
  }
  return { mediaType: `${type}/${subtype}`.toLowerCase(), params };
}

export function formatContentType({ mediaType, params }: ContentType): string {
  return `${mediaType}${formatParams(params)}`;
}

/** RFC 4028 Session-Expires. */
export interface SessionExpires {
  seconds: number;
  refresher?: 'uac' | 'uas';
  params: SipParams;
}

export function parseSessionExpires(text: string): SessionExpires {
  const { value, params } = parseValueWithParams(text, 'Session-Expires');
  const { refresher, ...rest } = params;
  const sessionExpires: SessionExpires = { seconds: parseUnsigned(value, 'Session-Expires'), params: rest };
  if (refresher !== undefined) {
    const lower = refresher?.toLowerCase();
    if (lower !== 'uac' && lower !== 'uas') {
      throw new SipParseError(`Session-Expires: refresher must be uac or uas, got ${JSON.stringify(refresher)}`);
    }
    sessionExpires.refresher = lower;
  }
  return sessionExpires;
}

export function formatSessionExpires({ seconds, refresher, params }: SessionExpires): string {
  return `${seconds}${refresher ? `;refresher=${refresher}` : ''}${formatParams(params)}`;
}

/** RFC 4028 Min-SE: the seconds (its parameters carry nothing we use). */
export function parseMinSE(text: string): number {
  return parseUnsigned(parseValueWithParams(text, 'Min-SE').value, 'Min-SE');
}

/** RFC 3326 Reason: `SIP;cause=200;text="Call completed elsewhere"`, `Q.850;cause=16`. */
export interface Reason {
  protocol: string;
  cause?: number;
  text?: string;
  params: SipParams;
}

export function parseReason(text: string): Reason {
  const { value, params } = parseValueWithParams(text, 'Reason');
  if (!isToken(value)) throw new SipParseError(`Reason: expected a protocol, got ${JSON.stringify(text)}`);
  const { cause, text: reasonText, ...rest } = params;
  const reason: Reason = { protocol: value, params: rest };
  if (cause) reason.cause = parseUnsigned(cause, 'Reason cause');
  if (reasonText) reason.text = unquote(reasonText);
  return reason;
}

export function formatReason({ protocol, cause, text, params }: Reason): string {
  let value = protocol;
  if (cause !== undefined) value += `;cause=${cause}`;
  if (text !== undefined) value += `;text=${quote(text)}`;
  return value + formatParams(params);
}
