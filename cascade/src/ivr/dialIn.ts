// Where a dialled SIP URI leads: `sip:<会议号>@host` straight into that meeting; `sip:ivr@host` and
// any other user to the IVR, which asks for the meeting number (ending in #).

/** 会议号 are 8 digits and never start with 0 (see signaling's meetingRecords). */
const MEETING_NUMBER = /^[1-9][0-9]{7}$/;

export type DialInTarget = { kind: 'meeting'; number: number } | { kind: 'ivr' };

/** The target of a dial-in by the Request-URI's user part (which may be absent). */
export function dialInTarget(user: string | undefined): DialInTarget {
  const digits = user?.trim() ?? '';
  return MEETING_NUMBER.test(digits) ? { kind: 'meeting', number: Number(digits) } : { kind: 'ivr' };
}

/** Whether an IVR entry can be a meeting number at all (the caller is asked again otherwise). */
export function isMeetingNumber(digits: string): boolean {
  return MEETING_NUMBER.test(digits);
}
