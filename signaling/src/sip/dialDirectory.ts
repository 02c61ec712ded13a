// What a meeting can dial out to, as the chair console lists it: the configured cascade targets
// (upper-level MCUs) and the room terminals of its units. SipGateway.dial checks a request itself.
import { meetingUnitIds } from '../governance/meetingDirectory.js';
import type { CascadeTargetSummary, TerminalSummary } from '../protocol.js';
import type { CascadeTargetRecord, MeetingRecord, Unit } from '../store/types.js';

/** A target as chairs see it: no credentials, no call settings. */
export function cascadeTargetSummary({ id, name, uri }: CascadeTargetRecord): CascadeTargetSummary {
  return { id, name, uri };
}

/**
 * The room terminals the meeting's chair may dial: the units with a SIP URI among those the
 * meeting involves (chair, co-chairs, main venue, invited, observers: those SipGateway.dial takes),
 * in the directory's order; every unit with a SIP URI for a meeting that invites nobody (ad hoc).
 */
export function meetingTerminals(meeting: MeetingRecord, units: readonly Unit[]): TerminalSummary[] {
  const involved = meeting.invitedUnitIds.length === 0 ? null : new Set(meetingUnitIds(meeting));
  return units
    .filter((unit): unit is Unit & { sipUri: string } => unit.sipUri !== null && (involved === null || involved.has(unit.id)))
    .map((unit) => ({ unitId: unit.id, name: unit.name, sipUri: unit.sipUri }));
}
