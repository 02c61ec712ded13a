import type { MeetingControlState } from '@cityconf/signaling/protocol';
import { describe, expect, it } from 'vitest';
import { focusOf, forcesSpeakerLayout, hasChairConsole, micAllowed, mustRequestFloor, newerControl, unitNamer, type FocusInput } from '../src/lib/meetingControl';
import { MeetingGovernance } from '../src/lib/MeetingGovernance';

function control(changes: Partial<MeetingControlState> = {}): MeetingControlState {
  return {
    version: 1,
    locked: false,
    floorMode: 'free',
    allowSelfUnmute: true,
    floorUnitIds: [],
    handQueue: [],
    broadcastUnitId: null,
    mainVenueUnitId: null,
    rollCall: { currentUnitId: null, called: 0, present: 0, absent: 0, total: 5 },
    ...changes,
  };
}

const unit = { role: 'participant', unitId: 'county-a' } as const;
const chair = { role: 'cochair', unitId: 'city-office' } as const;

describe('micAllowed', () => {
  it('lets everyone speak in free mode unless muted all without self-unmute', () => {
    expect(micAllowed(control(), unit)).toBe(true);
    expect(micAllowed(control({ allowSelfUnmute: false }), unit)).toBe(false);
    expect(micAllowed(control({ allowSelfUnmute: false, floorUnitIds: ['county-a'] }), unit)).toBe(true);
  });

  it('holds microphones in controlled mode except the floor holders and the chairs', () => {
    const controlled = control({ floorMode: 'controlled', floorUnitIds: ['town-b'] });
    expect(micAllowed(controlled, unit)).toBe(false);
    expect(mustRequestFloor(controlled, unit)).toBe(true);
    expect(micAllowed(controlled, { role: 'participant', unitId: 'town-b' })).toBe(true);
    expect(micAllowed(controlled, chair)).toBe(true);
    expect(mustRequestFloor(controlled, chair)).toBe(false);
  });

  it('allows everything before the join reply, and asks for the floor only in controlled mode', () => {
    expect(micAllowed(null, unit)).toBe(true);
    expect(mustRequestFloor(control({ allowSelfUnmute: false }), unit)).toBe(false);
  });
});

describe('focusOf', () => {
  const base: FocusInput = {
    watchUnitId: null,
    control: control({
      mainVenueUnitId: 'city-office',
      broadcastUnitId: 'county-b',
      rollCall: { currentUnitId: 'town-a', called: 1, present: 0, absent: 0, total: 5 },
    }),
    onlineUnitIds: new Set(['city-office', 'county-b']),
    activeSpeakerUnitId: 'county-c',
  };

  it('prefers 选看, then the roll call, then the broadcast, then the main venue, then the active speaker', () => {
    expect(focusOf({ ...base, watchUnitId: 'town-x' })).toEqual({ unitId: 'town-x', reason: 'watch' });
    expect(focusOf(base)).toEqual({ unitId: 'town-a', reason: 'rollCall' });
    const noCall = control({ ...base.control, rollCall: { ...base.control!.rollCall, currentUnitId: null } });
    expect(focusOf({ ...base, control: noCall })).toEqual({ unitId: 'county-b', reason: 'broadcast' });
    const noBroadcast = { ...noCall, broadcastUnitId: null };
    expect(focusOf({ ...base, control: noBroadcast })).toEqual({ unitId: 'city-office', reason: 'mainVenue' });
    expect(focusOf({ ...base, control: noBroadcast, onlineUnitIds: new Set() })).toEqual({ unitId: 'county-c', reason: 'activeSpeaker' });
    expect(focusOf({ ...base, control: null, activeSpeakerUnitId: null })).toBeNull();
  });

  it('switches to the speaker layout for roll call, broadcast and 选看 only', () => {
    expect(forcesSpeakerLayout({ unitId: 'a', reason: 'rollCall' })).toBe(true);
    expect(forcesSpeakerLayout({ unitId: 'a', reason: 'broadcast' })).toBe(true);
    expect(forcesSpeakerLayout({ unitId: 'a', reason: 'watch' })).toBe(true);
    expect(forcesSpeakerLayout({ unitId: 'a', reason: 'mainVenue' })).toBe(false);
    expect(forcesSpeakerLayout({ unitId: 'a', reason: 'activeSpeaker' })).toBe(false);
    expect(forcesSpeakerLayout(null)).toBe(false);
  });
});

describe('chair state', () => {
  it('shows the console to roles with chair actions', () => {
    expect(hasChairConsole(['publish', 'chat', 'raiseHand'])).toBe(false);
    expect(hasChairConsole([])).toBe(false);
    expect(hasChairConsole(undefined)).toBe(false);
    expect(hasChairConsole(['publish', 'muteAll', 'rollCall'])).toBe(true);
  });

  it('drops a control copy older than the one held', () => {
    const held = control({ version: 5 });
    expect(newerControl(held, control({ version: 4 }))).toBe(held);
    const fresh = control({ version: 6 });
    expect(newerControl(held, fresh)).toBe(fresh);
    expect(newerControl(null, held)).toBe(held);
  });

  it('names units from the directory, else from who is in the meeting, else by id', () => {
    const name = unitNamer({ units: [{ id: 'county-a', name: '甲县' }] }, [{ unitId: 'county-a', name: '甲县政府办' }, { unitId: 'guest', name: '来宾' }]);
    expect(name('county-a')).toBe('甲县');
    expect(name('guest')).toBe('来宾');
    expect(name('nobody')).toBe('nobody');
  });

  it('keeps roll-call results and shows each notice until it is dismissed', () => {
    const governance = new MeetingGovernance();
    governance.applyJoinReply({ meeting: null as never, control: control({ version: 3 }), rollCallResults: { 'county-a': 'called' }, directory: null });
    expect(governance.applyControl(control({ version: 2 }))).toBe(false);
    expect(governance.applyControl(control({ version: 4, locked: true }))).toBe(true);
    expect(governance.control?.locked).toBe(true);
    governance.applyRollCallStatus('county-a', 'present');
    expect(governance.snapshot.rollCallResults).toEqual({ 'county-a': 'present' });

    governance.notify('muted', '市政府办公室');
    const first = governance.snapshot.chairNotice!;
    governance.notify('muted', '市政府办公室');
    const second = governance.snapshot.chairNotice!;
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(governance.dismissNotice(first.seq)).toBe(false);
    expect(governance.dismissNotice(second.seq)).toBe(true);
    expect(governance.snapshot.chairNotice).toBeNull();
  });
});
