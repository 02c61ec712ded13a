import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export interface HttpRoutes {
  webClientDir: string;
  health: () => unknown;
  /** The admin REST API: every method on /api and below. */
  api?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Recording files (/api/recordings/{id}/files/{name}), streamed with range requests. */
  recordingFiles?: { matches: (pathname: string) => boolean; handle: (req: IncomingMessage, res: ServerResponse) => void };
  /** The WHIP endpoint of WHIP feeds: every method on /whip and below. */
  whip?: (req: IncomingMessage, res: ServerResponse) => void;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function sendFile(res: ServerResponse, path: string, cacheControl: string): void {
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    'content-length': statSync(path).size,
    'cache-control': cacheControl,
  });
  createReadStream(path).pipe(res);
}

/**
 * Serves /healthz, the admin API under /api/ and WHIP under /whip/ (when given) and the built web
 * client; /, /m/<meetingId>, /wall/<meetingId> and /command get the app shell.
 */
export function createHttpHandler({ webClientDir, health, api, whip, recordingFiles }: HttpRoutes) {
  const root = normalize(webClientDir + sep);
  const shell = join(webClientDir, 'index.html');

  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (recordingFiles?.matches(url.pathname)) {
      recordingFiles.handle(req, res);
      return;
    }
    if (api && (url.pathname === '/api' || url.pathname.startsWith('/api/'))) {
      api(req, res);
      return;
    }
    if (whip && (url.pathname === '/whip' || url.pathname.startsWith('/whip/'))) {
      whip(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET' } });
      return;
    }
    if (url.pathname === '/healthz') {
      sendJson(res, 200, health());
      return;
    }
    if (!existsSync(shell)) {
      sendJson(res, 503, {
        error: { code: 'WEB_CLIENT_NOT_BUILT', message: `no web client at ${webClientDir}: run "npm run build"` },
      });
      return;
    }
    if (url.pathname === '/' || url.pathname === '/command' || /^\/(m|wall)\/[^/]+\/?$/.test(url.pathname)) {
      sendFile(res, shell, 'no-cache');
      return;
    }
    let file: string;
    try {
      file = normalize(join(webClientDir, decodeURIComponent(url.pathname)));
    } catch {
      sendJson(res, 400, { error: { code: 'BAD_PATH', message: 'malformed URL path' } });
      return;
    }
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `nothing at ${url.pathname}` } });
      return;
    }
    const hashedAsset = file.startsWith(join(root, 'assets') + sep);
    sendFile(res, file, hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
  };
}
