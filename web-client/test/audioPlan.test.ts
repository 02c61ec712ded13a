// Audio last-N on the receiving side: deterministic inputs → which microphones are received.
import type { MeetingControlState } from '@cityconf/signaling/protocol';
import { describe, expect, it } from 'vitest';
import { hearParticipant, RECEIVE_ALL_AUDIO_UP_TO, type AudioCandidate } from '../src/lib/audioPlan';

const control: MeetingControlState = {
  version: 1,
  locked: false,
  floorMode: 'controlled',
  allowSelfUnmute: true,
  floorUnitIds: ['county-b'],
  handQueue: [],
  broadcastUnitId: 'county-c',
  mainVenueUnitId: 'city-office',
  rollCall: { currentUnitId: 'town-d', called: 1, present: 0, absent: 0, total: 550 },
};

const unit = (id: string, role: AudioCandidate['role'] = 'participant'): AudioCandidate => ({ id: `p-${id}`, unitId: id, role });
const big = { audibleIds: ['p-town-x', 'p-town-y'], control, others: 549 };

describe('hearParticipant', () => {
  it('receives every microphone in a small meeting', () => {
    expect(hearParticipant(unit('town-z'), { audibleIds: [], control: null, others: RECEIVE_ALL_AUDIO_UP_TO })).toBe(true);
    expect(hearParticipant(unit('town-z'), { audibleIds: [], control: null, others: RECEIVE_ALL_AUDIO_UP_TO + 1 })).toBe(false);
  });

  it('in a large meeting: the audible set, chairs, main venue, floor, roll call and broadcast only', () => {
    const heard = ['town-x', 'town-y', 'city-office', 'county-b', 'county-c', 'town-d', 'town-z', 'town-w'].filter((id) =>
      hearParticipant(unit(id), big),
    );
    expect(heard).toEqual(['town-x', 'town-y', 'city-office', 'county-b', 'county-c', 'town-d']);
    expect(hearParticipant(unit('deputy', 'cochair'), big)).toBe(true);
    expect(hearParticipant(unit('watcher', 'observer'), big)).toBe(false);
  });

  it('without control state (ad-hoc meeting) only the audible set and chairs', () => {
    const adHoc = { ...big, control: null };
    expect(hearParticipant(unit('city-office'), adHoc)).toBe(false);
    expect(hearParticipant(unit('town-x'), adHoc)).toBe(true);
    expect(hearParticipant(unit('host', 'chair'), adHoc)).toBe(true);
  });
});
