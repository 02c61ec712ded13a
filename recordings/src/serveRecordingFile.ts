import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface ServeOptions {
  /** Ask the browser to save the file rather than play it. */
  download?: boolean;
  /** The name the browser saves it as (any characters, e.g. the meeting's title). */
  fileName: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.mka': 'audio/x-matroska',
  '.json': 'application/json',
};

/**
 * Sends a recording file (GET or HEAD) with single-range support, so players can seek and
 * downloads resume. `absolutePath` must come from RecordingLibrary.filePath: this handler trusts it.
 * Rejects before answering if the file cannot be read (the caller answers 404 or 500).
 */
export async function serveRecordingFile(req: IncomingMessage, res: ServerResponse, absolutePath: string, options: ServeOptions): Promise<void> {
  const { size } = await stat(absolutePath);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', CONTENT_TYPES[extname(absolutePath).toLowerCase()] ?? 'application/octet-stream');
  if (options.download) res.setHeader('Content-Disposition', attachment(options.fileName));
  const range = req.headers.range === undefined ? undefined : parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  res.setHeader('Content-Length', end - start + 1);
  if (range) res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}` });
  else res.writeHead(200);
  if (req.method === 'HEAD' || end < start) {
    res.end();
    return;
  }
  try {
    await pipeline(createReadStream(absolutePath, { start, end }), res);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error; // the client went away
  }
}

/**
 * A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range, clamped to the file. Ranges this does not
 * serve (several, or not bytes) are ignored and the whole file sent, as RFC 9110 allows.
 */
function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1]!, match[2]!];
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return start >= size || end < start ? 'unsatisfiable' : { start, end };
}

/** attachment with an ASCII fallback name and the real one in RFC 5987 encoding. */
function attachment(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
