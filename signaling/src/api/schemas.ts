// The zod schemas of the admin API: they validate every request and, through z.toJSONSchema, are
// the OpenAPI document (openapi.ts). Records the API returns are described here too.
import { z } from 'zod';
import { MEETING_ROLES } from '../governance/roles.js';
import { MEETING_ID_PATTERN } from '../protocol.js';
import { ACCOUNT_ROLES, FLOOR_MODES, MEETING_STATES, UNIT_ID_PATTERN, UNIT_LEVELS } from '../store/types.js';

export const unitIdSchema = z.string().regex(UNIT_ID_PATTERN, 'unit ids are 1–64 characters of A–Z a–z 0–9 _ . -');
export const meetingIdSchema = z
  .string()
  .regex(MEETING_ID_PATTERN, 'meeting ids are 1–64 characters of A–Z a–z 0–9 _ . -');
export const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'usernames are 1–64 characters of A–Z a–z 0–9 _ . @ -');
const passwordSchema = z.string().min(8, 'passwords need at least 8 characters').max(256);
const displayNameSchema = z.string().trim().min(1).max(100);
const pinSchema = z.string().regex(/^\d{4,8}$/, 'a PIN is 4–8 digits');
export const meetingRoleSchema = z.enum(MEETING_ROLES);

/** A point in time: ms since the epoch, or an ISO 8601 date-time with offset (2026-03-01T09:00:00+08:00). */
export const instantSchema = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+$/, 'expected ms since the epoch or an ISO 8601 date-time'),
    z.iso.datetime({ offset: true, local: false }),
  ])
  .transform((value) => (typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value)))
  .meta({ description: 'ms since the epoch, or an ISO 8601 date-time with offset, e.g. 2026-03-01T09:00:00+08:00' });

export const idParams = z.strictObject({ id: meetingIdSchema });
export const unitParams = z.strictObject({ id: unitIdSchema });

// ---- records ----------------------------------------------------------------------------------

export const unitSchema = z
  .strictObject({
    id: unitIdSchema,
    name: z.string().trim().min(1).max(100),
    level: z.enum(UNIT_LEVELS),
    parentId: unitIdSchema.nullable(),
    sortOrder: z.number().int(),
    sipUri: z.string().max(256).nullable(),
  })
  .meta({ title: 'Unit' });

export const accountSchema = z
  .strictObject({
    username: usernameSchema,
    displayName: z.string(),
    role: z.enum(ACCOUNT_ROLES),
    unitId: z.string().nullable(),
    disabled: z.boolean(),
    createdAt: z.number(),
  })
  .meta({ title: 'Account', description: 'An account; the password hash never leaves the server.' });

const settingsSchema = z.strictObject({
  floorMode: z.enum(FLOOR_MODES),
  allowSelfUnmute: z.boolean(),
  locked: z.boolean(),
  autoRecord: z.boolean().meta({ description: 'Start recording when the first participant joins' }),
});

export const meetingSchema = z
  .strictObject({
    id: meetingIdSchema,
    number: z.number().int().meta({ description: '会议号: 8 digits' }),
    title: z.string(),
    startsAt: z.number().nullable(),
    endsAt: z.number().nullable(),
    chairUnitId: z.string().nullable(),
    coChairUnitIds: z.array(z.string()),
    mainVenueUnitId: z.string().nullable(),
    invitedUnitIds: z.array(z.string()),
    observerUnitIds: z.array(z.string()),
    pin: z.string().nullable(),
    state: z.enum(MEETING_STATES),
    adHoc: z.boolean(),
    settings: settingsSchema,
    createdAt: z.number(),
    startedAt: z.number().nullable(),
    endedAt: z.number().nullable(),
  })
  .meta({ title: 'Meeting' });

export const meetingWithParticipantsSchema = meetingSchema
  .extend({ participants: z.array(z.looseObject({ id: z.string(), identity: z.string(), name: z.string() })) })
  .meta({ title: 'MeetingWithParticipants' });

export const tokenReplySchema = z
  .strictObject({
    token: z.string().meta({ description: 'LiveKit-format join token' }),
    url: z.string().meta({ description: 'the link that opens the meeting with this token' }),
    role: meetingRoleSchema,
    identity: z.string(),
  })
  .meta({ title: 'JoinToken' });

export const itemsOf = (item: z.ZodType) => z.strictObject({ items: z.array(item) });

// ---- requests ---------------------------------------------------------------------------------

export const loginBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
export const loginReplySchema = z.strictObject({
  token: z.string().meta({ description: 'session token: send it as Authorization: Bearer <token>; valid 12 h' }),
  account: z.strictObject({
    username: z.string(),
    displayName: z.string(),
    role: z.enum(ACCOUNT_ROLES),
    unitId: z.string().nullable(),
  }),
});

export const createUnitBody = z.strictObject({
  id: unitIdSchema,
  name: z.string().trim().min(1).max(100),
  level: z.enum(UNIT_LEVELS),
  parentId: unitIdSchema.nullable().default(null),
  sortOrder: z.number().int().default(0),
  sipUri: z.string().max(256).nullable().default(null),
});
export const updateUnitBody = createUnitBody.omit({ id: true }).partial();

export const importQuery = z.strictObject({ mode: z.enum(['merge', 'replace']).default('merge') });

export const createAccountBody = z.strictObject({
  username: usernameSchema,
  displayName: displayNameSchema,
  role: z.enum(ACCOUNT_ROLES),
  unitId: unitIdSchema.nullable().optional(),
  password: passwordSchema,
});
export const updateAccountBody = z.strictObject({
  displayName: displayNameSchema.optional(),
  password: passwordSchema.optional(),
  disabled: z.boolean().optional(),
  role: z.enum(ACCOUNT_ROLES).optional(),
  unitId: unitIdSchema.nullable().optional(),
});
export const accountParams = z.strictObject({ username: usernameSchema });

export const meetingQuery = z.strictObject({
  state: z.enum(MEETING_STATES).optional(),
  unitId: unitIdSchema.optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
});

const meetingFields = {
  title: z.string().trim().min(1).max(200),
  startsAt: instantSchema.nullable().optional(),
  endsAt: instantSchema.nullable().optional(),
  chairUnitId: unitIdSchema.nullable().optional(),
  coChairUnitIds: z.array(unitIdSchema).max(100).optional(),
  mainVenueUnitId: unitIdSchema.nullable().optional(),
  invite: z
    .strictObject({
      subtrees: z.array(unitIdSchema).max(1000).optional(),
      units: z.array(unitIdSchema).max(10_000).optional(),
    })
    .optional()
    .meta({ description: 'invited units: whole subtrees of the directory and single units (chair and main venue are always invited)' }),
  observerUnitIds: z.array(unitIdSchema).max(1000).optional(),
  pin: pinSchema.nullable().optional(),
  settings: settingsSchema.partial().optional(),
};
export const createMeetingBody = z.strictObject({ id: meetingIdSchema.optional(), ...meetingFields });
export const updateMeetingBody = z.strictObject({ ...meetingFields, title: meetingFields.title.optional() });

export const numberParams = z.strictObject({ number: z.string().regex(/^\d{8}$/, 'a meeting number is 8 digits') });
export const participantParams = z.strictObject({ id: meetingIdSchema, participantId: z.string().min(1).max(128) });

export const tokenBody = z.strictObject({
  unitId: unitIdSchema.optional(),
  identity: z.string().min(1).max(128).optional(),
  name: z.string().trim().min(1).max(100).optional(),
  role: meetingRoleSchema.optional(),
  ttlSeconds: z.number().int().min(60).max(7 * 24 * 3600).optional(),
  hidden: z.boolean().optional(),
});
export const myTokenBody = z.strictObject({ pin: z.string().max(16).optional() });

export const deliveriesQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional()
    .meta({ description: '1–1000, default 100' }),
});
