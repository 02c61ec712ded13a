// /api/meetings/{id}/recording(s) and /api/recordings: starting and stopping a meeting's recording,
// listing its recordings with their files, and deleting them. The files themselves stream from
// recordingFiles.ts (range requests), which these listings link to.
import { RecordingError, type RecordingSummary } from '@cityconf/recordings';
import { z } from 'zod';
import type { ApiContext } from './ApiDeps.js';
import { ApiError } from './ApiError.js';
import { principalName } from './authorize.js';
import { apiCall } from './feeds.js';
import { getMeeting } from './meetings.js';
import { json, noContent } from './reply.js';
import { route, type Route } from './Route.js';
import { idParams, itemsOf } from './schemas.js';

const TAG = 'recordings';

const recordingIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'recording ids are letters, digits, _ . -');
const recordingParams = z.strictObject({ id: recordingIdSchema });

const fileSchema = z.strictObject({
  name: z.string(),
  sizeBytes: z.number(),
  url: z.string().meta({ description: 'GET it (Range supported) with the Authorization header or ?access_token=' }),
  downloadUrl: z.string(),
});

const recordingSchema = z
  .strictObject({
    id: z.string(),
    meetingId: z.string(),
    title: z.string().nullable(),
    status: z.enum(['recording', 'finishing', 'complete', 'interrupted', 'failed', 'stopped-disk-full']),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    durationS: z.number(),
    sizeBytes: z.number(),
    tracks: z.array(
      z.strictObject({
        id: z.string(),
        name: z.string(),
        kind: z.enum(['audio', 'video']),
        codec: z.string(),
        source: z.string(),
        file: z.string(),
        sizeBytes: z.number(),
      }),
    ),
    composite: z.strictObject({ file: z.string(), sizeBytes: z.number() }).nullable(),
    files: z.array(fileSchema),
    error: z.string().nullable(),
  })
  .meta({ title: 'Recording' });

export function recordingView({ manifest, durationMs, totalBytes, files }: RecordingSummary) {
  const sizeOf = (name: string): number => files.find((file) => file.name === name)?.bytes ?? 0;
  const fileUrl = (name: string): string => `/api/recordings/${encodeURIComponent(manifest.recordingId)}/files/${encodeURIComponent(name)}`;
  return {
    id: manifest.recordingId,
    meetingId: manifest.meetingId,
    title: manifest.title ?? null,
    status: manifest.status,
    startedAt: manifest.startedAt,
    endedAt: manifest.endedAt ?? null,
    durationS: Math.round(durationMs / 100) / 10,
    sizeBytes: totalBytes,
    tracks: manifest.tracks.map((track) => ({
      id: track.id,
      name: track.name,
      kind: track.kind,
      codec: track.codec,
      source: track.source,
      file: track.file,
      sizeBytes: sizeOf(track.file),
    })),
    composite: manifest.composite ? { file: manifest.composite.file, sizeBytes: sizeOf(manifest.composite.file) } : null,
    files: files.map((file) => ({ name: file.name, sizeBytes: file.bytes, url: fileUrl(file.name), downloadUrl: `${fileUrl(file.name)}?download=1` })),
    error: manifest.error ?? null,
  };
}

/** Runs a library call, answering RecordingError as the matching API error. */
async function libraryCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof RecordingError)) throw error;
    if (error.code === 'NOT_FOUND') throw new ApiError('NOT_FOUND', error.message);
    throw new ApiError('CONFLICT', error.message);
  }
}

export function recordingRoutes(api: ApiContext): Route[] {
  const recordings = (): NonNullable<ApiContext['recordings']> => {
    if (!api.recordings) throw new ApiError('CONFLICT', 'this server runs without recording');
    return api.recordings;
  };
  return [
    route({
      method: 'GET',
      path: '/api/meetings/{id}/recordings',
      summary: 'The recordings of a meeting, newest first, with their tracks and files',
      tag: TAG,
      access: 'meetingChair',
      params: idParams,
      responses: { 200: { description: 'the recordings', schema: itemsOf(recordingSchema) } },
      handle: async ({ params }) => {
        getMeeting(api.store, params.id);
        return json({ items: (await recordings().library.list(params.id)).map(recordingView) });
      },
    }),
    route({
      method: 'POST',
      path: '/api/meetings/{id}/recording/start',
      summary: 'Start recording a running meeting (录制中 shows for everyone)',
      tag: TAG,
      access: 'meetingChair',
      params: idParams,
      responses: { 201: { description: 'the new recording id', schema: z.strictObject({ recordingId: z.string() }) } },
      handle: async ({ params, principal }) => {
        getMeeting(api.store, params.id);
        const recordingId = await apiCall(() => recordings().recorder.start(params.id, principalName(principal)));
        return json({ recordingId }, 201);
      },
    }),
    route({
      method: 'POST',
      path: '/api/meetings/{id}/recording/stop',
      summary: "Stop the meeting's recording; the composite MP4 is made afterwards",
      tag: TAG,
      access: 'meetingChair',
      params: idParams,
      responses: { 204: { description: 'stopped' } },
      handle: async ({ params, principal }) => {
        getMeeting(api.store, params.id);
        await apiCall(() => recordings().recorder.stop(params.id, principalName(principal)));
        return noContent;
      },
    }),
    route({
      method: 'GET',
      path: '/api/recordings',
      summary: 'Every recording, newest first',
      tag: TAG,
      access: 'operator',
      responses: { 200: { description: 'the recordings', schema: itemsOf(recordingSchema) } },
      handle: async () => json({ items: (await recordings().library.list()).map(recordingView) }),
    }),
    route({
      method: 'GET',
      path: '/api/recordings/{id}',
      summary: 'One recording',
      tag: TAG,
      access: 'operator',
      params: recordingParams,
      responses: { 200: { description: 'the recording', schema: recordingSchema } },
      handle: async ({ params }) => json(recordingView(await libraryCall(() => recordings().library.get(params.id)))),
    }),
    route({
      method: 'DELETE',
      path: '/api/recordings/{id}',
      summary: 'Delete a finished recording and its files',
      tag: TAG,
      access: 'operator',
      params: recordingParams,
      responses: { 204: { description: 'deleted' } },
      handle: async ({ params, principal }) => {
        await libraryCall(() => recordings().library.delete(params.id));
        api.logger.info({ recordingId: params.id, by: principalName(principal) }, 'recording deleted through the api');
        return noContent;
      },
    }),
  ];
}


