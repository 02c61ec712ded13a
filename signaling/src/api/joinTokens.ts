// Join tokens through the API: operators mint them for any unit or person
// (/api/meetings/{id}/tokens); unit and terminal accounts fetch their own (/api/me/meetings).
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { mintToken } from '../auth/tokens.js';
import type { UnitTree } from '../directory/unitTree.js';
import { unitGroupPath } from '../governance/attendanceReport.js';
import { meetingRoleFor, type MeetingRole } from '../governance/roles.js';
import type { Account, MeetingRecord } from '../store/types.js';
import type { ApiContext } from './ApiDeps.js';
import { ApiError } from './ApiError.js';
import { accountOf, sameSecret } from './authorize.js';
import { getMeeting, refuseEnded } from './meetings.js';
import { json, type ApiReply } from './reply.js';
import { route, type Route } from './Route.js';
import { idParams, meetingRoleSchema, meetingSchema, myTokenBody, tokenBody, tokenReplySchema } from './schemas.js';
import { directoryOf } from './units.js';

interface TokenRequest {
  identity: string;
  name: string;
  role: MeetingRole;
  unitId?: string;
  ttlSeconds?: number;
  hidden?: boolean;
}

/** The unit, or BAD_REQUEST naming the unknown id. */
function unitOf(tree: UnitTree, unitId: string) {
  const unit = tree.get(unitId);
  if (!unit) throw new ApiError('BAD_REQUEST', `unit "${unitId}" does not exist: check the id in GET /api/units`);
  return unit;
}

async function issue(api: ApiContext, req: IncomingMessage, meeting: MeetingRecord, tree: UnitTree, request: TokenRequest): Promise<ApiReply> {
  const path = request.unitId === undefined ? '' : unitGroupPath(tree, request.unitId);
  const token = await mintToken(api.auth, {
    room: meeting.id,
    identity: request.identity,
    name: request.name,
    role: request.role,
    unitId: request.unitId,
    attributes: path ? { unit: path } : undefined,
    ttlSeconds: request.ttlSeconds,
    hidden: request.hidden,
  });
  const url = `${api.publicUrl(req).replace(/\/+$/, '')}/m/${encodeURIComponent(meeting.id)}?token=${encodeURIComponent(token)}`;
  api.logger.info({ meetingId: meeting.id, identity: request.identity, role: request.role }, 'join token issued');
  return json({ token, url, role: request.role, identity: request.identity });
}

/** The role of an account's unit, admitted by PIN when it has no place in the meeting. */
function roleOfAccount(meeting: MeetingRecord, account: Account, pin: string | undefined): MeetingRole {
  const role = meetingRoleFor(meeting, account);
  if (role) return role;
  if (meeting.pin === null) {
    throw new ApiError('FORBIDDEN', `your unit is not invited to meeting "${meeting.id}": ask the organiser to invite it`);
  }
  if (pin === undefined || !sameSecret(pin, meeting.pin)) {
    throw new ApiError('FORBIDDEN', `your unit is not invited to meeting "${meeting.id}": send its PIN as { "pin": "…" } to join`);
  }
  return account.role === 'terminal' ? 'terminal' : 'participant';
}

const myMeetingSchema = meetingSchema.omit({ pin: true }).extend({ role: meetingRoleSchema }).meta({ title: 'MyMeeting' });

export function joinTokenRoutes(api: ApiContext): Route[] {
  const { store } = api;
  return [
    route({
      method: 'POST',
      path: '/api/meetings/{id}/tokens',
      summary: 'Mint a join token and link for a unit (unitId) or a person (identity)',
      tag: 'tokens',
      access: 'operator',
      params: idParams,
      body: tokenBody,
      responses: { 200: { description: 'the token and the link that opens the meeting with it', schema: tokenReplySchema } },
      handle: async ({ req, params, body }) => {
        const meeting = getMeeting(store, params.id);
        refuseEnded(meeting, 'join it');
        const tree = directoryOf(store);
        const { unitId, identity, name, role, ttlSeconds, hidden } = body;
        if (unitId === undefined) {
          if (identity === undefined) throw new ApiError('BAD_REQUEST', 'name who the token is for: a unitId, or an identity (and name)');
          return issue(api, req, meeting, tree, { identity, name: name ?? identity, role: role ?? 'participant', ttlSeconds, hidden });
        }
        const unit = unitOf(tree, unitId);
        const unitRole = role ?? meetingRoleFor(meeting, { role: 'unit', unitId });
        if (!unitRole) {
          throw new ApiError('FORBIDDEN', `unit "${unitId}" has no place in meeting "${meeting.id}": invite it (PATCH the meeting), or pass a role`);
        }
        return issue(api, req, meeting, tree, { identity: identity ?? unitId, name: name ?? unit.name, role: unitRole, unitId, ttlSeconds, hidden });
      },
    }),
    route({
      method: 'GET',
      path: '/api/me/meetings',
      summary: "The meetings this account's unit has a place in and that have not ended",
      tag: 'me',
      access: 'unitAccount',
      responses: { 200: { description: 'the meetings, with the role the unit has in each', schema: z.strictObject({ items: z.array(myMeetingSchema) }) } },
      handle: ({ principal }) => {
        const account = accountOf(principal);
        if (account.unitId === null) return json({ items: [] });
        const items = store.meetings
          .list({ unitId: account.unitId })
          .filter((meeting) => meeting.state !== 'ended')
          .flatMap((meeting) => {
            const role = meetingRoleFor(meeting, account);
            // The PIN is for units that are not invited: the invited never see it.
            return role ? [{ ...meeting, pin: undefined, role }] : [];
          });
        return json({ items });
      },
    }),
    route({
      method: 'POST',
      path: '/api/me/meetings/{id}/token',
      summary: "A join token for this account's unit (a PIN admits a unit that is not invited)",
      tag: 'me',
      access: 'unitAccount',
      params: idParams,
      body: myTokenBody,
      responses: { 200: { description: 'the token and the link that opens the meeting with it', schema: tokenReplySchema } },
      handle: ({ req, principal, params, body }) => {
        const account = accountOf(principal);
        const meeting = getMeeting(store, params.id);
        refuseEnded(meeting, 'join it');
        if (account.unitId === null) throw new ApiError('FORBIDDEN', 'this account has no unit: ask an operator to set its unitId');
        const tree = directoryOf(store);
        const unit = unitOf(tree, account.unitId);
        const role = roleOfAccount(meeting, account, body.pin);
        return issue(api, req, meeting, tree, { identity: unit.id, name: unit.name, role, unitId: unit.id });
      },
    }),
  ];
}
