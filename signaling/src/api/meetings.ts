// /api/meetings: scheduling, changing, ending and deleting meetings, and removing participants.
import { randomBytes } from 'node:crypto';
import type { UnitTree } from '../directory/unitTree.js';
import { DEFAULT_MEETING_SETTINGS, newMeetingNumber } from '../governance/meetingRecords.js';
import { StoreConflictError, type MeetingRecord, type Store } from '../store/types.js';
import type { ApiContext } from './ApiDeps.js';
import { ApiError, notFound } from './ApiError.js';
import { principalName } from './authorize.js';
import { json, noContent } from './reply.js';
import { route, type Route } from './Route.js';
import {
  createMeetingBody,
  idParams,
  itemsOf,
  meetingQuery,
  meetingSchema,
  meetingWithParticipantsSchema,
  numberParams,
  participantParams,
  updateMeetingBody,
} from './schemas.js';
import { directoryOf, unitsInTreeOrder } from './units.js';

const TAG = 'meetings';

type MeetingUnits = Pick<MeetingRecord, 'chairUnitId' | 'coChairUnitIds' | 'mainVenueUnitId' | 'invitedUnitIds' | 'observerUnitIds'>;

interface MeetingUnitsInput {
  chairUnitId?: string | null;
  coChairUnitIds?: string[];
  mainVenueUnitId?: string | null;
  invite?: { subtrees?: string[]; units?: string[] };
  observerUnitIds?: string[];
}

const NO_UNITS: MeetingUnits = { chairUnitId: null, coChairUnitIds: [], mainVenueUnitId: null, invitedUnitIds: [], observerUnitIds: [] };

export function getMeeting(store: Store, id: string): MeetingRecord {
  const meeting = store.meetings.get(id);
  if (!meeting) throw notFound(`meeting "${id}"`, 'list the meetings with GET /api/meetings');
  return meeting;
}

export function refuseEnded(meeting: MeetingRecord, doing: string): void {
  if (meeting.state === 'ended') {
    throw new ApiError('CONFLICT', `meeting "${meeting.id}" has ended: cannot ${doing}; schedule a new meeting instead`);
  }
}

/**
 * The units of a meeting after `input` changes `current`: every named unit must exist; the
 * invitation (subtrees expanded) gains the chair, co-chairs and main venue, loses the observers,
 * and is kept in directory pre-order — the roll-call order.
 */
export function resolveMeetingUnits(tree: UnitTree, current: MeetingUnits, input: MeetingUnitsInput): MeetingUnits {
  const named = [
    input.chairUnitId,
    input.mainVenueUnitId,
    ...(input.coChairUnitIds ?? []),
    ...(input.observerUnitIds ?? []),
    ...(input.invite?.subtrees ?? []),
    ...(input.invite?.units ?? []),
  ].filter((id): id is string => typeof id === 'string');
  const unknown = [...new Set(named.filter((id) => !tree.get(id)))];
  if (unknown.length > 0) {
    throw new ApiError(
      'BAD_REQUEST',
      `unknown unit(s): ${unknown.join(', ')}: add them to the directory first, or leave them out`,
      unknown.map((id) => ({ message: `unit "${id}" does not exist` })),
    );
  }
  const chairUnitId = input.chairUnitId === undefined ? current.chairUnitId : input.chairUnitId;
  const mainVenueUnitId = input.mainVenueUnitId === undefined ? current.mainVenueUnitId : input.mainVenueUnitId;
  const coChairUnitIds = [...new Set(input.coChairUnitIds ?? current.coChairUnitIds)];
  const observerUnitIds = [...new Set(input.observerUnitIds ?? current.observerUnitIds)];
  const invited = input.invite
    ? [...(input.invite.subtrees ?? []).flatMap((id) => tree.subtreeIds(id)), ...(input.invite.units ?? [])]
    : current.invitedUnitIds;
  const observers = new Set(observerUnitIds);
  const wanted = new Set(
    [chairUnitId, mainVenueUnitId, ...coChairUnitIds, ...invited].filter((id): id is string => id !== null && !observers.has(id)),
  );
  const order = new Map(unitsInTreeOrder(tree).map((unit, index) => [unit.id, index]));
  // Units since deleted from the directory keep their place at the end.
  const rank = (id: string) => order.get(id) ?? Number.MAX_SAFE_INTEGER;
  const invitedUnitIds = [...wanted].sort((a, b) => rank(a) - rank(b));
  return { chairUnitId, coChairUnitIds, mainVenueUnitId, invitedUnitIds, observerUnitIds };
}

function checkSchedule(startsAt: number | null, endsAt: number | null): void {
  if (startsAt !== null && endsAt !== null && endsAt <= startsAt) {
    throw new ApiError('BAD_REQUEST', 'endsAt must be after startsAt', [{ field: 'endsAt', message: 'not after startsAt' }]);
  }
}

/** 12 URL-safe characters: unguessable, so that a meeting link is not found by trying. */
const newMeetingId = (): string => randomBytes(9).toString('base64url');

export function meetingRoutes(api: ApiContext): Route[] {
  const { store, live } = api;
  const withParticipants = (meeting: MeetingRecord) => ({ ...meeting, participants: live.participants(meeting.id) });
  return [
    route({
      method: 'GET',
      path: '/api/meetings',
      summary: 'List meetings (filter by state, a unit taking part, scheduled start in [from, to))',
      tag: TAG,
      access: 'operator',
      query: meetingQuery,
      responses: { 200: { description: 'the meetings', schema: itemsOf(meetingSchema) } },
      handle: ({ query }) => json({ items: store.meetings.list(query) }),
    }),
    route({
      method: 'POST',
      path: '/api/meetings',
      summary: 'Schedule a meeting (with startsAt), or open an ad-hoc one now (without)',
      tag: TAG,
      access: 'operator',
      body: createMeetingBody,
      responses: { 201: { description: 'the meeting, with its new 8-digit number', schema: meetingSchema } },
      handle: ({ body, now }) => {
        const id = body.id ?? newMeetingId();
        if (store.meetings.get(id)) throw new ApiError('CONFLICT', `meeting "${id}" exists already: pick another id, or leave it out`);
        const startsAt = body.startsAt ?? null;
        const endsAt = body.endsAt ?? null;
        checkSchedule(startsAt, endsAt);
        const meeting: MeetingRecord = {
          id,
          number: newMeetingNumber(store.meetings),
          title: body.title,
          startsAt,
          endsAt,
          ...resolveMeetingUnits(directoryOf(store), NO_UNITS, body),
          pin: body.pin ?? null,
          state: startsAt === null ? 'live' : 'scheduled',
          adHoc: startsAt === null,
          settings: { ...DEFAULT_MEETING_SETTINGS, ...body.settings },
          createdAt: now,
          startedAt: startsAt === null ? now : null,
          endedAt: null,
        };
        try {
          store.meetings.create(meeting);
        } catch (error) {
          if (error instanceof StoreConflictError) throw new ApiError('CONFLICT', `${error.message}: try again`);
          throw error;
        }
        api.logger.info({ meetingId: id, number: meeting.number, state: meeting.state }, 'meeting created');
        return json(meeting, 201);
      },
    }),
    route({
      method: 'GET',
      path: '/api/meetings/by-number/{number}',
      summary: 'Find a meeting by its 8-digit number (会议号)',
      tag: TAG,
      access: 'operator',
      params: numberParams,
      responses: { 200: { description: 'the meeting and who is in it now', schema: meetingWithParticipantsSchema } },
      handle: ({ params }) => {
        const meeting = store.meetings.getByNumber(Number(params.number));
        if (!meeting) throw notFound(`meeting number ${params.number}`, 'check the number');
        return json(withParticipants(meeting));
      },
    }),
    route({
      method: 'GET',
      path: '/api/meetings/{id}',
      summary: 'One meeting, with who is in it now',
      tag: TAG,
      access: 'operator',
      params: idParams,
      responses: { 200: { description: 'the meeting and who is in it now', schema: meetingWithParticipantsSchema } },
      handle: ({ params }) => json(withParticipants(getMeeting(store, params.id))),
    }),
    route({
      method: 'PATCH',
      path: '/api/meetings/{id}',
      summary: 'Change a meeting that has not ended (a running meeting takes up settings, main venue and invitations at once)',
      tag: TAG,
      access: 'operator',
      params: idParams,
      body: updateMeetingBody,
      responses: { 200: { description: 'the changed meeting', schema: meetingSchema } },
      handle: async ({ params, body, principal }) => {
        const meeting = getMeeting(store, params.id);
        refuseEnded(meeting, 'change it');
        const { invite: _invite, settings, startsAt, endsAt, chairUnitId, coChairUnitIds, mainVenueUnitId, observerUnitIds, ...rest } = body;
        const schedule = {
          startsAt: startsAt === undefined ? meeting.startsAt : startsAt,
          endsAt: endsAt === undefined ? meeting.endsAt : endsAt,
        };
        checkSchedule(schedule.startsAt, schedule.endsAt);
        const updated = store.meetings.update(meeting.id, {
          ...rest,
          ...schedule,
          ...resolveMeetingUnits(directoryOf(store), meeting, body),
          settings: { ...meeting.settings, ...settings },
        });
        await live.meetingChanged(meeting.id, principalName(principal));
        return json(updated);
      },
    }),
    route({
      method: 'POST',
      path: '/api/meetings/{id}/end',
      summary: 'End a meeting for everyone in it',
      tag: TAG,
      access: 'operator',
      params: idParams,
      responses: { 200: { description: 'the ended meeting', schema: meetingSchema } },
      handle: ({ params, principal, now }) => {
        const meeting = getMeeting(store, params.id);
        refuseEnded(meeting, 'end it again');
        live.endMeeting(meeting.id, principalName(principal));
        api.logger.info({ meetingId: meeting.id, by: principalName(principal) }, 'meeting ended through the api');
        return json(store.meetings.update(meeting.id, { state: 'ended', endedAt: now }));
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/meetings/{id}',
      summary: 'Delete a scheduled or ended meeting',
      tag: TAG,
      access: 'operator',
      params: idParams,
      responses: { 204: { description: 'deleted' } },
      handle: ({ params }) => {
        const meeting = getMeeting(store, params.id);
        if (meeting.state === 'live') {
          throw new ApiError('CONFLICT', `meeting "${meeting.id}" is live: end it first (POST /api/meetings/${meeting.id}/end)`);
        }
        store.meetings.delete(meeting.id);
        return noContent;
      },
    }),
    route({
      method: 'POST',
      path: '/api/meetings/{id}/participants/{participantId}/remove',
      summary: 'Remove one participant from a running meeting',
      tag: TAG,
      access: 'operator',
      params: participantParams,
      responses: { 204: { description: 'removed' } },
      handle: ({ params, principal }) => {
        getMeeting(store, params.id);
        if (!live.removeParticipant(params.id, params.participantId, principalName(principal))) {
          throw notFound(`participant "${params.participantId}" in meeting "${params.id}"`, `see who is in it with GET /api/meetings/${params.id}`);
        }
        return noContent;
      },
    }),
  ];
}
