// Writing API replies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './ApiError.js';

export type ApiReply =
  | { status: number; json: unknown }
  | { status: number; text: string; contentType: string; headers?: Record<string, string> }
  | { status: 204 };

const NO_STORE = { 'cache-control': 'no-store' };

export function send(res: ServerResponse, reply: ApiReply): void {
  if ('json' in reply) {
    res.writeHead(reply.status, { ...NO_STORE, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(reply.json));
  } else if ('text' in reply) {
    res.writeHead(reply.status, { ...NO_STORE, 'content-type': reply.contentType, ...reply.headers });
    res.end(reply.text);
  } else {
    res.writeHead(204, NO_STORE);
    res.end();
  }
}

export function sendError(res: ServerResponse, error: ApiError): void {
  res.writeHead(error.status, { ...NO_STORE, 'content-type': 'application/json; charset=utf-8', ...error.headers });
  res.end(JSON.stringify(error.toBody()));
}

export const json = (json: unknown, status = 200): ApiReply => ({ status, json });
export const noContent: ApiReply = { status: 204 };

/** A download: Content-Disposition attachment with an ASCII and a UTF-8 file name. */
export function attachment(text: string, contentType: string, fileName: string): ApiReply {
  const ascii = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  return {
    status: 200,
    text,
    contentType,
    headers: { 'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}` },
  };
}

/**
 * Answers a request whose handler failed: an ApiError as itself, anything else as INTERNAL
 * (logged with `what`); a reply already under way is cut off.
 */
export function answerFailure(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  logger: { error(object: object, message: string): void },
  what: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof ApiError) {
    // Unread request bodies would otherwise hold the connection.
    if (!req.readableEnded) res.setHeader('connection', 'close');
    sendError(res, error);
    return;
  }
  logger.error({ err: error, method: req.method, url: req.url }, `${what} failed`);
  sendError(res, new ApiError('INTERNAL', `the server failed to handle the ${what}: try again, and report it if it persists`));
}
