// The lexical pieces SIP headers share (RFC 3261 §25.1): tokens, quoted strings, and separators
// that count only outside quotes and angle brackets.
import { SipParseError } from './errors.js';

/** Header or parameter parameters in wire order, names lower-case, values as written (quotes kept); `;lr` has the value null. */
export type SipParams = Record<string, string | null>;

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** Splits on `separator` where it stands outside quoted strings and `<…>`. */
export function splitTopLevel(text: string, separator: ',' | ';'): string[] {
  const parts: string[] = [];
  let inQuotes = false;
  let angleDepth = 0;
  let partStart = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inQuotes) {
      if (char === '\\') i++;
      else if (char === '"') inQuotes = false;
    } else if (char === '"') inQuotes = true;
    else if (char === '<') angleDepth++;
    else if (char === '>' && angleDepth > 0) angleDepth--;
    else if (char === separator && angleDepth === 0) {
      parts.push(text.slice(partStart, i));
      partStart = i + 1;
    }
  }
  parts.push(text.slice(partStart));
  return parts;
}

/** The text of the quoted string that opens `text` (unescaped) and where it ends; `text[0]` must be `"`. */
export function readQuoted(text: string, what: string): { value: string; end: number } {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const char = text[i];
    if (char === '"') return { value, end: i + 1 };
    if (char === '\\') {
      i++;
      if (i >= text.length) break;
    }
    value += text[i];
  }
  throw new SipParseError(`${what}: unterminated quoted string in ${JSON.stringify(text)}`);
}

/** `"…"` with `"` and `\` escaped. */
export function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** A parameter value without its quotes (and escapes), or as it is when it is not quoted. */
export function unquote(value: string): string {
  return value.startsWith('"') ? readQuoted(value, 'parameter').value : value;
}

/** `;name=value` segments (the part after the first `;`) into params; `what` names the header for errors. */
export function parseParams(segments: readonly string[], what: string): SipParams {
  const params: SipParams = {};
  for (const segment of segments) {
    const trimmed = segment.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const name = (equals < 0 ? trimmed : trimmed.slice(0, equals)).trim().toLowerCase();
    if (!isToken(name)) throw new SipParseError(`${what}: bad parameter name in ${JSON.stringify(trimmed)}`);
    const value = equals < 0 ? null : trimmed.slice(equals + 1).trim();
    if (value !== null) checkParamValue(value, what);
    definePlain(params, name, value);
  }
  return params;
}

/**
 * A value is a whole quoted string, a whole `<…>`, or has neither quotes nor angle brackets: a
 * stray `"` or `<` would swallow the parameters after it once they are written in another order.
 */
export function checkParamValue(value: string, what: string): void {
  const whole = value.startsWith('"') ? readQuoted(value, what).end === value.length : /^<[^<>"]*>$/.test(value) || !/["<>]/.test(value);
  if (!whole) throw new SipParseError(`${what}: bad parameter value ${JSON.stringify(value)}`);
}

export function formatParams(params: SipParams): string {
  return Object.entries(params)
    .map(([name, value]) => (value === null ? `;${name}` : `;${name}=${value}`))
    .join('');
}

/** Sets a property even when its name is `__proto__`, so wire text cannot reach a prototype. */
export function definePlain<T>(target: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

/** A non-negative decimal integer of at most 2^32-1 (delta-seconds, CSeq, Content-Length…). */
export function parseUnsigned(text: string, what: string): number {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) throw new SipParseError(`${what}: expected a number, got ${JSON.stringify(text)}`);
  const value = Number(trimmed);
  if (value > 0xffff_ffff) throw new SipParseError(`${what}: ${trimmed} is larger than 2^32-1`);
  return value;
}
