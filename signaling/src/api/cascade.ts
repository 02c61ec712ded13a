// /api/cascade/targets: the upper-level MCUs our meetings can join as a site (级联上级), configured
// by operators; /api/meetings/{id}/sip: a meeting's SIP legs, dialling a target or a unit's room
// terminal out of it, and hanging a leg up.
import { randomUUID } from 'node:crypto';
import { parseSipUri } from '@cityconf/cascade';
import { z } from 'zod';
import { SIP_LEG_STATES } from '../protocol.js';
import { CASCADE_AUDIO_CODECS, StoreConflictError, type CascadeTargetRecord } from '../store/types.js';
import type { ApiContext } from './ApiDeps.js';
import { ApiError, notFound } from './ApiError.js';
import { principalName } from './authorize.js';
import { apiCall } from './feeds.js';
import { getMeeting } from './meetings.js';
import { json, noContent } from './reply.js';
import { route, type Route } from './Route.js';
import { idParams, itemsOf, meetingIdSchema, unitIdSchema } from './schemas.js';

const TAG = 'cascade';

/**
 * G.722 first: wideband, and every hardware MCU (Huawei, ZTE, Kedacom, Polycom, Cisco) speaks it;
 * then G.711 A-law (the national networks' default) and μ-law; Opus last, which older MCUs lack.
 */
const DEFAULT_CASCADE_AUDIO_CODECS: CascadeTargetRecord['audioCodecs'] = ['G722', 'PCMA', 'PCMU', 'opus'];

const targetIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'cascade target ids are 1–64 characters of A–Z a–z 0–9 _ -');
const targetParams = z.strictObject({ id: targetIdSchema });
const legParams = z.strictObject({ id: meetingIdSchema, legId: z.string().min(1).max(128) });

const sipUriSchema = z
  .string()
  .trim()
  .max(512)
  .superRefine((text, context) => {
    const problem = sipUriProblem(text);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'The MCU’s SIP URI, e.g. sip:9000@10.1.1.1;transport=tcp' });

/** Why `text` is not a SIP URI we can dial, or null. */
function sipUriProblem(text: string): string | null {
  try {
    const uri = parseSipUri(text);
    if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return 'expected a sip: or sips: URI, e.g. sip:9000@10.1.1.1';
    if (!uri.host) return 'the URI has no host: write sip:<number>@<MCU address>';
    return null;
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)}; write e.g. sip:9000@10.1.1.1;transport=tcp`;
  }
}

const targetFields = {
  name: z.string().trim().min(1).max(100).meta({ description: 'What the chair sees, e.g. 省视频会议平台' }),
  uri: sipUriSchema,
  username: z.string().min(1).max(128).nullable().meta({ description: 'Digest user name when the MCU or its proxy challenges' }),
  password: z.string().min(1).max(256).nullable().meta({ description: 'Digest password; never returned (see hasPassword)' }),
  displayName: z.string().trim().min(1).max(100).nullable().meta({ description: 'Our site name towards the MCU (From display name), e.g. 某市视频会议' }),
  bandwidthKbps: z.number().int().min(64, 'bandwidthKbps is 64–8192').max(8192, 'bandwidthKbps is 64–8192').meta({ description: 'Video bit rate asked for and sent at most (kbit/s), 64–8192' }),
  audioCodecs: z
    .array(z.enum(CASCADE_AUDIO_CODECS))
    .min(1, `name at least one audio codec of ${CASCADE_AUDIO_CODECS.join(', ')}`)
    .refine((codecs) => new Set(codecs).size === codecs.length, 'name each audio codec once')
    .meta({ description: `In order of preference, from ${CASCADE_AUDIO_CODECS.join(', ')}` }),
  video: z.boolean().meta({ description: 'H.264 video both ways (false: audio only)' }),
  dtmf: z
    .string()
    .regex(/^[0-9*#A-D,]{1,64}$/, 'DTMF keys are 0–9 * # A–D, and "," for a 1 s pause (at most 64)')
    .nullable()
    .meta({ description: 'Keys sent after the call connects (the MCU conference id, PIN, #); "," waits 1 s' }),
  dtmfDelayMs: z.number().int().min(0, 'dtmfDelayMs is 0–60000').max(60_000, 'dtmfDelayMs is 0–60000').meta({ description: 'How long after the connect the DTMF keys go (ms)' }),
  redial: z.boolean().meta({ description: 'Redial with backoff when the leg drops or the MCU refuses' }),
};

const createTargetBody = z
  .strictObject({
    id: targetIdSchema.optional().meta({ description: 'default: a new UUID' }),
    name: targetFields.name,
    uri: targetFields.uri,
    username: targetFields.username.default(null),
    password: targetFields.password.default(null),
    displayName: targetFields.displayName.default(null),
    bandwidthKbps: targetFields.bandwidthKbps.default(2048),
    audioCodecs: targetFields.audioCodecs.default(DEFAULT_CASCADE_AUDIO_CODECS),
    video: targetFields.video.default(true),
    dtmf: targetFields.dtmf.default(null),
    dtmfDelayMs: targetFields.dtmfDelayMs.default(3000),
    redial: targetFields.redial.default(true),
  })
  .superRefine(requireUsernameWithPassword);

const updateTargetBody = z.strictObject({
  name: targetFields.name.optional(),
  uri: targetFields.uri.optional(),
  username: targetFields.username.optional(),
  password: targetFields.password.optional(),
  displayName: targetFields.displayName.optional(),
  bandwidthKbps: targetFields.bandwidthKbps.optional(),
  audioCodecs: targetFields.audioCodecs.optional(),
  video: targetFields.video.optional(),
  dtmf: targetFields.dtmf.optional(),
  dtmfDelayMs: targetFields.dtmfDelayMs.optional(),
  redial: targetFields.redial.optional(),
});

function requireUsernameWithPassword(body: { username: string | null; password: string | null }, context: z.RefinementCtx): void {
  if (body.password !== null && body.username === null) {
    context.addIssue({ code: 'custom', path: ['username'], message: 'a password needs the username it goes with' });
  }
}

const targetSchema = z
  .strictObject({
    id: targetIdSchema,
    name: z.string(),
    uri: z.string(),
    username: z.string().nullable(),
    hasPassword: z.boolean().meta({ description: 'Whether a password is set (the password itself is never returned)' }),
    displayName: z.string().nullable(),
    bandwidthKbps: z.number(),
    audioCodecs: z.array(z.enum(CASCADE_AUDIO_CODECS)),
    video: z.boolean(),
    dtmf: z.string().nullable(),
    dtmfDelayMs: z.number(),
    redial: z.boolean(),
    createdBy: z.string(),
    createdAt: z.number(),
  })
  .meta({ title: 'CascadeTarget' });

const legSchema = z
  .looseObject({
    id: z.string(),
    meetingId: z.string(),
    direction: z.enum(['in', 'out']),
    kind: z.enum(['mcu', 'terminal']),
    name: z.string(),
    uri: z.string(),
    targetId: z.string().nullable(),
    unitId: z.string().nullable(),
    participantId: z.string().nullable(),
    state: z.enum(SIP_LEG_STATES).meta({ description: 'calling 呼叫中, connected 已连接, redialing 重拨中, failed 失败, ended 已挂断' }),
    since: z.number(),
    connectedSince: z.number().nullable(),
    error: z.string().nullable(),
    attempt: z.number(),
    nextAttemptAt: z.number().nullable(),
    audio: z.looseObject({ codec: z.string(), clockRate: z.number(), srtp: z.boolean() }).nullable(),
    video: z.looseObject({ codec: z.string(), profileLevelId: z.string().nullable(), srtp: z.boolean() }).nullable(),
    rxKbps: z.number(),
    txKbps: z.number(),
    lossPct: z.number(),
  })
  .meta({ title: 'SipLeg' });

const dialBody = z
  .union([z.strictObject({ targetId: targetIdSchema }), z.strictObject({ unitId: unitIdSchema })], {
    error: 'send {"targetId": <cascade target id>} or {"unitId": <unit id>}',
  })
  .meta({ description: 'A cascade target (upper-level MCU) or a unit whose room terminal to dial' });

/** A target as the API shows it: the password replaced by whether there is one. */
function targetView({ password, ...target }: CascadeTargetRecord) {
  return { ...target, hasPassword: password !== null };
}

export function cascadeRoutes(api: ApiContext): Route[] {
  const { store } = api;
  const sipLegs = (): NonNullable<ApiContext['sipLegs']> => {
    if (!api.sipLegs) throw new ApiError('CONFLICT', 'this server runs without SIP (SIP_PORT=-1): set SIP_PORT to dial out');
    return api.sipLegs;
  };
  const getTarget = (id: string): CascadeTargetRecord => {
    const target = store.cascadeTargets.get(id);
    if (!target) throw notFound(`cascade target "${id}"`, 'list them with GET /api/cascade/targets');
    return target;
  };

  return [
    route({
      method: 'GET',
      path: '/api/cascade/targets',
      summary: 'List the cascade targets (upper-level MCUs)',
      tag: TAG,
      access: 'operator',
      responses: { 200: { description: 'every target', schema: itemsOf(targetSchema) } },
      handle: () => json({ items: store.cascadeTargets.list().map(targetView) }),
    }),
    route({
      method: 'POST',
      path: '/api/cascade/targets',
      summary: 'Configure an upper-level MCU that meetings can cascade to',
      tag: TAG,
      access: 'operator',
      body: createTargetBody,
      responses: { 201: { description: 'the target', schema: targetSchema } },
      handle: ({ body, principal, now }) => {
        const { id, ...fields } = body;
        const target: CascadeTargetRecord = { id: id ?? randomUUID(), ...fields, createdBy: principalName(principal), createdAt: now };
        try {
          store.cascadeTargets.create(target);
        } catch (error) {
          if (error instanceof StoreConflictError) throw new ApiError('CONFLICT', `${error.message}: choose another id or PATCH that one`);
          throw error;
        }
        api.logger.info({ targetId: target.id, uri: target.uri, by: target.createdBy }, 'cascade target created');
        return json(targetView(target), 201);
      },
    }),
    route({
      method: 'GET',
      path: '/api/cascade/targets/{id}',
      summary: 'One cascade target',
      tag: TAG,
      access: 'operator',
      params: targetParams,
      responses: { 200: { description: 'the target', schema: targetSchema } },
      handle: ({ params }) => json(targetView(getTarget(params.id))),
    }),
    route({
      method: 'PATCH',
      path: '/api/cascade/targets/{id}',
      summary: 'Change a cascade target (legs already dialled keep their settings until dialled again)',
      tag: TAG,
      access: 'operator',
      params: targetParams,
      body: updateTargetBody,
      responses: { 200: { description: 'the changed target', schema: targetSchema } },
      handle: ({ params, body, principal }) => {
        const current = getTarget(params.id);
        const username = body.username === undefined ? current.username : body.username;
        const password = body.password === undefined ? current.password : body.password;
        if (password !== null && username === null) {
          throw new ApiError('BAD_REQUEST', 'the body is not valid: username: a password needs the username it goes with (send "password": null too)');
        }
        const updated = store.cascadeTargets.update(current.id, body)!;
        api.logger.info({ targetId: updated.id, by: principalName(principal) }, 'cascade target changed');
        return json(targetView(updated));
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/cascade/targets/{id}',
      summary: 'Delete a cascade target (legs already dialled to it keep running until hung up)',
      tag: TAG,
      access: 'operator',
      params: targetParams,
      responses: { 204: { description: 'deleted' } },
      handle: ({ params }) => {
        getTarget(params.id);
        store.cascadeTargets.delete(params.id);
        return noContent;
      },
    }),
    route({
      method: 'GET',
      path: '/api/meetings/{id}/sip',
      summary: "The meeting's SIP legs (dialled in or out), newest first, with state, codecs, bit rates and loss",
      tag: TAG,
      access: 'meetingChair',
      params: idParams,
      responses: { 200: { description: 'the legs', schema: itemsOf(legSchema) } },
      handle: ({ params }) => {
        getMeeting(store, params.id);
        return json({ items: sipLegs().legs(params.id) });
      },
    }),
    route({
      method: 'POST',
      path: '/api/meetings/{id}/sip',
      summary: "Dial an upper-level MCU (级联) or a unit's room terminal out of the meeting; follow the leg with GET",
      tag: TAG,
      access: 'meetingChair',
      params: idParams,
      body: dialBody,
      responses: { 202: { description: 'the leg, calling', schema: legSchema } },
      handle: async ({ params, body, principal }) => {
        getMeeting(store, params.id);
        const leg = await apiCall(() => sipLegs().dial(params.id, body, principalName(principal)));
        return json(leg, 202);
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/meetings/{id}/sip/{legId}',
      summary: 'Hang a SIP leg up (and stop redialing it)',
      tag: TAG,
      access: 'meetingChair',
      params: legParams,
      responses: { 204: { description: 'hung up' } },
      handle: ({ params }) => {
        getMeeting(store, params.id);
        if (!sipLegs().hangup(params.id, params.legId)) {
          throw notFound(`SIP leg "${params.legId}" of meeting "${params.id}"`, `list the legs with GET /api/meetings/${params.id}/sip`);
        }
        return noContent;
      },
    }),
  ];
}
