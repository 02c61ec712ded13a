// The chair console through the meeting view, per role: a participant never gets it (and asks
// for the floor in controlled mode), a co-chair gets it without 结束会议, the chair with it,
// behind a confirmation.
import { ROLE_ACTIONS, type MeetingControlState, type MeetingRole } from '@cityconf/signaling/protocol';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import MeetingView from '../src/components/MeetingView.svelte';
import type { MeetingSession, SessionState } from '../src/lib/MeetingSession';
import { joinedState } from './sessionState';

const control: MeetingControlState = {
  version: 7,
  locked: false,
  floorMode: 'controlled',
  allowSelfUnmute: true,
  floorUnitIds: ['county-b'],
  handQueue: [{ unitId: 'county-a', participantId: 'p-a', name: '甲县', raisedAt: 1 }],
  broadcastUnitId: null,
  mainVenueUnitId: null,
  rollCall: { currentUnitId: null, called: 37, present: 30, absent: 7, total: 550 },
};

function meetingState(role: MeetingRole): SessionState {
  return joinedState({
    self: { id: 'self', identity: 'me', unitId: 'me', role, name: '本单位', isAdmin: false, handRaised: false, attributes: {} },
    permissions: { canPublish: true, canSubscribe: true, isAdmin: false, role, actions: [...ROLE_ACTIONS[role]] },
    meeting: { id: 'city-weekly', number: 12345678, title: '周例会', state: 'live', startsAt: null, chairUnitId: null },
    control,
  });
}

function renderAs(role: MeetingRole) {
  const chair = { grantFloor: vi.fn(async () => ({})), endMeeting: vi.fn(async () => ({})), rollCallNext: vi.fn(async () => 'county-a') };
  const session = { setVisibleVideo: vi.fn(), markChatRead: vi.fn(), transportSample: vi.fn(async () => null), setHandRaised: vi.fn(async () => undefined), chair, token: 't' };
  render(MeetingView, { meeting: meetingState(role), session: session as unknown as MeetingSession });
  return { chair, session };
}

describe('chair console', () => {
  it('is never offered to a participant, whose microphone button asks for the floor', async () => {
    const { session } = renderAs('participant');
    expect(screen.queryByTestId('toggle-chair-console')).toBeNull();
    const mic = screen.getByTestId('toggle-microphone');
    expect(mic.dataset.floor).toBe('request');
    expect(mic.textContent).toContain('申请发言');
    await fireEvent.click(mic);
    expect(session.setHandRaised).toHaveBeenCalledWith(true);
  });

  it('gives a co-chair the controls but not 结束会议', async () => {
    const { chair } = renderAs('cochair');
    await fireEvent.click(screen.getByTestId('toggle-chair-console'));
    await screen.findByTestId('chair-console');
    expect(screen.queryByTestId('chair-end-meeting')).toBeNull();
    expect(screen.getByTestId('chair-roll-call-progress').textContent).toContain('已点名 37/550');
    expect(screen.getByTestId('chair-floor-controlled').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('chair-floor-holders').textContent).toContain('county-b');
    await fireEvent.click(screen.getByTestId('chair-grant'));
    expect(chair.grantFloor).toHaveBeenCalledWith('county-a');
    // Chairs' microphones are never held.
    expect(screen.getByTestId('toggle-microphone').dataset.floor).toBeUndefined();
  });

  it('lets the chair end the meeting after confirming', async () => {
    const { chair } = renderAs('chair');
    await fireEvent.click(screen.getByTestId('toggle-chair-console'));
    await fireEvent.click(await screen.findByTestId('chair-end-meeting'));
    expect(chair.endMeeting).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('end-meeting-confirm-button'));
    expect(chair.endMeeting).toHaveBeenCalledOnce();
  });
});
