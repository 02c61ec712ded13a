// Reading request bodies: size limit, content type, JSON with the place of a syntax error.
import type { IncomingMessage } from 'node:http';
import { ApiError } from './ApiError.js';

/** Largest accepted request body (a unit directory CSV of a whole city fits many times over). */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export type BodyKind = 'json' | 'csv';

export interface RequestBody {
  kind: BodyKind | 'empty';
  /** The parsed JSON value, or the CSV text. */
  value: unknown;
}

/** Reads the whole body; PAYLOAD_TOO_LARGE as soon as it passes `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError('PAYLOAD_TOO_LARGE', `the request body is larger than ${maxBytes / 1024 / 1024} MB: split it into smaller requests`);
}

/** The media type without parameters, lower case ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Decodes `raw` as one of the `accepted` kinds. An empty body without a content type is `empty`
 * (the route's schema then sees `{}`).
 */
export function decodeBody(raw: Buffer, type: string, accepted: readonly BodyKind[]): RequestBody {
  if (raw.length === 0 && type === '') return { kind: 'empty', value: {} };
  const kind = kindOf(type);
  if (!kind || !accepted.includes(kind)) {
    const expected = accepted.map((each) => (each === 'json' ? 'application/json' : 'text/csv')).join(' or ');
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `Content-Type "${type || '(none)'}" is not accepted here: send ${expected}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    const line = firstBadUtf8Line(raw);
    throw new ApiError(
      'BAD_REQUEST',
      `the body is not valid UTF-8 (from line ${line}; GBK, as Excel saves "CSV" in China?): save the file as UTF-8 (Excel: "CSV UTF-8")`,
      [{ row: line, field: '', message: 'not UTF-8 text' }],
    );
  }
  return kind === 'csv' ? { kind, value: text } : { kind, value: parseJson(text) };
}

/** The 1-based line of the first byte sequence that is not UTF-8. */
function firstBadUtf8Line(raw: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let index = 0; index <= raw.length; index++) {
    if (index < raw.length && raw[index] !== 0x0a) continue;
    try {
      decoder.decode(raw.subarray(start, index));
    } catch {
      return line;
    }
    line++;
    start = index + 1;
  }
  return line;
}

function kindOf(type: string): BodyKind | undefined {
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type === 'text/csv') return 'csv';
  return undefined;
}

/** JSON.parse, with BAD_REQUEST naming the line, column and offset of a syntax error. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = jsonErrorPosition(text);
    const before = text.slice(0, position).split('\n');
    const where = `line ${before.length}, column ${before.at(-1)!.length + 1} (position ${position})`;
    throw new ApiError('BAD_REQUEST', `the body is not valid JSON at ${where}: ${(error as Error).message}`);
  }
}

/**
 * The offset of the first syntax error in `text` (V8's own messages do not always carry it):
 * a small scanner of the JSON grammar that stops where the text stops fitting it.
 */
export function jsonErrorPosition(text: string): number {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text[at] !== char) fail();
      at++;
    }
  };
  const string = () => {
    at++;
    while (at < text.length && text[at] !== '"') {
      const char = text[at]!;
      if (char < ' ') fail();
      if (char === '\\') {
        at++;
        if (text[at] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail();
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail();
      }
      at++;
    }
    if (at >= text.length) fail();
    at++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match) fail();
    at += match![0].length;
  };
  const sequence = (close: string, item: () => void) => {
    at++;
    space();
    if (text[at] === close) return void at++;
    for (;;) {
      item();
      space();
      if (text[at] === close) return void at++;
      if (text[at] !== ',') fail();
      at++;
    }
  };
  const value = (): void => {
    space();
    const char = text[at];
    if (char === '{') {
      sequence('}', () => {
        space();
        if (text[at] !== '"') fail();
        string();
        space();
        if (text[at] !== ':') fail();
        at++;
        value();
      });
    } else if (char === '[') sequence(']', value);
    else if (char === '"') string();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else number();
  };
  try {
    value();
    space();
    return at < text.length ? at : text.length;
  } catch (position) {
    return Math.min(position as number, text.length);
  }
}
