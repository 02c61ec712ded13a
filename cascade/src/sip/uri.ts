// SIP and tel URIs (RFC 3261 §19.1, RFC 3966). Components are held unescaped and escaped again
// when formatted, so `sip:%61lice@host` and `sip:alice@host` parse to the same SipUri.
import { SipParseError } from './errors.js';
import { definePlain, type SipParams } from './lexer.js';

export type SipUriScheme = 'sip' | 'sips' | 'tel';

export interface SipUri {
  scheme: SipUriScheme;
  /** The user part, unescaped; for tel: the number. */
  user?: string;
  password?: string;
  /** Hostname, IPv4 address, or IPv6 address without brackets; '' for tel:. */
  host: string;
  port?: number;
  /** URI parameters (`;transport=tcp;lr`), unescaped, names lower-case. */
  params: SipParams;
  /** URI headers (`?subject=…&priority=…`), unescaped. */
  headers: Record<string, string>;
}

const UNRESERVED = "A-Za-z0-9\\-_.!~*'()";
// `?` may stand in a user part, but we escape it: unescaped, it is read as the start of URI headers.
const USER_CHARS = new RegExp(`[${UNRESERVED}&=+$,;/]`);
const PASSWORD_CHARS = new RegExp(`[${UNRESERVED}&=+$,]`);
const PARAM_CHARS = new RegExp(`[${UNRESERVED}\\[\\]/:&+$]`);
const HEADER_CHARS = new RegExp(`[${UNRESERVED}\\[\\]/?:+$]`);
const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

export function parseSipUri(text: string): SipUri {
  const colon = text.indexOf(':');
  const scheme = text.slice(0, colon).toLowerCase();
  if (colon < 0 || (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel')) {
    throw new SipParseError(`URI ${JSON.stringify(text)}: expected a sip:, sips: or tel: URI`);
  }
  const rest = text.slice(colon + 1);
  if (scheme === 'tel') {
    const [number = '', ...params] = rest.split(';');
    if (number === '') throw new SipParseError(`URI ${JSON.stringify(text)}: tel: URI without a number`);
    return { scheme, user: unescape(number, text), host: '', params: parseUriParams(params, text), headers: {} };
  }

  const question = rest.indexOf('?');
  const main = question < 0 ? rest : rest.slice(0, question);
  const at = main.lastIndexOf('@');
  const uri: SipUri = { scheme, host: '', params: {}, headers: {} };
  if (at >= 0) {
    const userinfo = main.slice(0, at);
    const passwordColon = userinfo.indexOf(':');
    const user = passwordColon < 0 ? userinfo : userinfo.slice(0, passwordColon);
    if (user === '') throw new SipParseError(`URI ${JSON.stringify(text)}: empty user before "@"`);
    uri.user = unescape(user, text);
    if (passwordColon >= 0) uri.password = unescape(userinfo.slice(passwordColon + 1), text);
  }
  const [hostport = '', ...params] = splitHostport(main.slice(at + 1), text);
  Object.assign(uri, parseHostport(hostport, `URI ${JSON.stringify(text)}`));
  uri.params = parseUriParams(params, text);
  if (question >= 0) uri.headers = parseUriHeaders(rest.slice(question + 1), text);
  return uri;
}

export function formatSipUri(uri: SipUri): string {
  const params = Object.entries(uri.params)
    .map(([name, value]) => `;${escape(name, PARAM_CHARS)}${value === null ? '' : `=${escape(value, PARAM_CHARS)}`}`)
    .join('');
  if (uri.scheme === 'tel') return `tel:${escape(uri.user ?? '', PARAM_CHARS)}${params}`;
  let userinfo = '';
  if (uri.user !== undefined) {
    userinfo = escape(uri.user, USER_CHARS);
    if (uri.password !== undefined) userinfo += `:${escape(uri.password, PASSWORD_CHARS)}`;
    userinfo += '@';
  }
  const headers = Object.entries(uri.headers)
    .map(([name, value]) => `${escape(name, HEADER_CHARS)}=${escape(value, HEADER_CHARS)}`)
    .join('&');
  return `${uri.scheme}:${userinfo}${formatHostport(uri.host, uri.port)}${params}${headers ? `?${headers}` : ''}`;
}

/** `host[:port]` as in a URI or Via sent-by: IPv6 in brackets. `where` prefixes errors. */
export function parseHostport(text: string, where: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (close < 0 || !IPV6.test(host) || (after !== '' && !after.startsWith(':'))) {
      throw new SipParseError(`${where}: bad IPv6 reference ${JSON.stringify(text)}`);
    }
    if (after !== '') portText = after.slice(1);
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    if (colon >= 0) portText = text.slice(colon + 1);
    if (!HOSTNAME.test(host)) throw new SipParseError(`${where}: bad host ${JSON.stringify(host)}`);
  }
  if (portText === undefined) return { host };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) throw new SipParseError(`${where}: bad port ${JSON.stringify(portText)}`);
  return { host, port };
}

export function formatHostport(host: string, port: number | undefined): string {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? bracketed : `${bracketed}:${port}`;
}

/** Splits `host[:port];params` on `;`, leaving an IPv6 reference whole. */
function splitHostport(text: string, uriText: string): string[] {
  const close = text.startsWith('[') ? text.indexOf(']') : 0;
  if (close < 0) throw new SipParseError(`URI ${JSON.stringify(uriText)}: unterminated IPv6 reference`);
  const semicolon = text.indexOf(';', close);
  return semicolon < 0 ? [text] : [text.slice(0, semicolon), ...text.slice(semicolon + 1).split(';')];
}

function parseUriParams(segments: readonly string[], uriText: string): SipParams {
  const params: SipParams = {};
  for (const segment of segments) {
    if (segment === '') continue;
    const equals = segment.indexOf('=');
    const name = unescape(equals < 0 ? segment : segment.slice(0, equals), uriText).toLowerCase();
    if (name === '') throw new SipParseError(`URI ${JSON.stringify(uriText)}: parameter without a name`);
    definePlain(params, name, equals < 0 ? null : unescape(segment.slice(equals + 1), uriText));
  }
  return params;
}

function parseUriHeaders(text: string, uriText: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new SipParseError(`URI ${JSON.stringify(uriText)}: URI header ${JSON.stringify(pair)} is not name=value`);
    definePlain(headers, unescape(pair.slice(0, equals), uriText), unescape(pair.slice(equals + 1), uriText));
  }
  return headers;
}

/** Decodes %XX escapes as UTF-8 (invalid sequences become U+FFFD rather than failing the message). */
function unescape(text: string, uriText: string): string {
  if (!text.includes('%')) return text;
  const input = Buffer.from(text, 'utf8');
  const output = Buffer.alloc(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    let byte = input[i] ?? 0;
    if (byte === 0x25) {
      const hex = input.toString('latin1', i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new SipParseError(`URI ${JSON.stringify(uriText)}: bad escape "%${hex}"`);
      byte = parseInt(hex, 16);
      i += 2;
    }
    output[length++] = byte;
  }
  return output.toString('utf8', 0, length);
}

function escape(text: string, allowed: RegExp): string {
  let escaped = '';
  for (const char of text) {
    if (allowed.test(char)) escaped += char;
    else for (const byte of Buffer.from(char, 'utf8')) escaped += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return escaped;
}
