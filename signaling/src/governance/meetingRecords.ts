// Making meeting records: numbers, default settings, ad-hoc meetings.
import { randomInt } from 'node:crypto';
import type { MeetingRecord, MeetingRepository, MeetingSettings } from '../store/types.js';

export const DEFAULT_MEETING_SETTINGS: MeetingSettings = {
  floorMode: 'free',
  allowSelfUnmute: true,
  locked: false,
  autoRecord: false,
};

/** 会议号 are 8 digits and never start with 0 (terminals and phones drop leading zeros). */
export const MEETING_NUMBER_MIN = 10_000_000;
export const MEETING_NUMBER_MAX = 99_999_999;

/** A random meeting number not yet used by any meeting. */
export function newMeetingNumber(meetings: MeetingRepository): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const number = randomInt(MEETING_NUMBER_MIN, MEETING_NUMBER_MAX + 1);
    if (!meetings.getByNumber(number)) return number;
  }
  throw new Error('could not find a free meeting number after 100 tries');
}

/**
 * A meeting record: the given fields over defaults (scheduled now, nobody invited, no chair, no
 * PIN, default settings).
 */
export function meetingRecord(fields: Pick<MeetingRecord, 'id' | 'number'> & Partial<MeetingRecord>, now = Date.now()): MeetingRecord {
  return {
    title: fields.id,
    startsAt: now,
    endsAt: null,
    chairUnitId: null,
    coChairUnitIds: [],
    mainVenueUnitId: null,
    invitedUnitIds: [],
    observerUnitIds: [],
    pin: null,
    state: 'scheduled',
    adHoc: false,
    settings: { ...DEFAULT_MEETING_SETTINGS },
    createdAt: now,
    startedAt: null,
    endedAt: null,
    ...fields,
  };
}

/** The record of a meeting that came into being by someone joining it (no schedule, no chair unit). */
export function adHocMeeting(id: string, number: number, now: number): MeetingRecord {
  return meetingRecord({ id, number, startsAt: null, state: 'live', adHoc: true, startedAt: now }, now);
}
