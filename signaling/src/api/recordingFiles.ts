// GET /api/recordings/{id}/files/{name}: a recording's file, streamed with range requests so the
// browser's player can seek. <video src> and download links cannot send headers, so the credential
// may come as ?access_token= instead of Authorization: an operator's, or a chair's join token of
// the recording's meeting.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RecordingError, serveRecordingFile } from '@cityconf/recordings';
import { withDefaults, type ApiDeps } from './ApiDeps.js';
import { ApiError } from './ApiError.js';
import { authorize } from './authorize.js';
import { answerFailure } from './reply.js';

const FILE_PATH = /^\/api\/recordings\/([^/]+)\/files\/([^/]+)$/;

/** Whether the request is for a recording file (handled here, not by the JSON API). */
export const isRecordingFilePath = (pathname: string): boolean => FILE_PATH.test(pathname);

export function createRecordingFileHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const api = withDefaults(deps);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new ApiError('METHOD_NOT_ALLOWED', 'recording files are read with GET', undefined, { allow: 'GET, HEAD' });
    }
    if (!api.recordings) throw new ApiError('CONFLICT', 'this server runs without recording');
    const [, rawId, rawName] = FILE_PATH.exec(url.pathname)!;
    let recordingId: string;
    let fileName: string;
    try {
      recordingId = decodeURIComponent(rawId!);
      fileName = decodeURIComponent(rawName!);
    } catch {
      throw new ApiError('BAD_REQUEST', 'the path is not valid percent-encoding');
    }
    const accessToken = url.searchParams.get('access_token');
    if (!req.headers.authorization && accessToken) req.headers.authorization = `Bearer ${accessToken}`;
    const { library } = api.recordings;
    let summary;
    try {
      summary = await library.get(recordingId);
    } catch (error) {
      if (error instanceof RecordingError) throw new ApiError('NOT_FOUND', `no recording ${recordingId}: list them with GET /api/meetings/{id}/recordings`);
      throw error;
    }
    await authorize(api, req, 'meetingChair', summary.manifest.meetingId);
    let path: string;
    try {
      path = await library.filePath(recordingId, fileName);
    } catch (error) {
      if (error instanceof RecordingError) throw new ApiError('NOT_FOUND', error.message);
      throw error;
    }
    const title = summary.manifest.title ?? summary.manifest.meetingId;
    const started = summary.manifest.startedAt.slice(0, 16).replace(/[T:]/g, '-');
    await serveRecordingFile(req, res, path, { download: url.searchParams.get('download') === '1', fileName: `${title}-${started}-${fileName}` });
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => answerFailure(req, res, error, api.logger, 'recording file request'));
  };
}
