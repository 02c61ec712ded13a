// The chair console through the meeting view, per role: a participant never gets it (and asks
// for the floor in controlled mode), a co-chair gets it without 结束会议, the chair with it,
// behind a confirmation; feeds brought in and taken out; recording started and stopped, and 录制中
// shown to everyone.
import { ROLE_ACTIONS, type FeedStatus, type MeetingControlState, type MeetingRole } from '@cityconf/signaling/protocol';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
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

function feed(id: string, state: FeedStatus['state'], sharedInto: string[]): FeedStatus {
  const video = { codec: 'H264', width: 1280, height: 720, transcoded: false };
  return { id, name: `${id} 号无人机`, kind: 'rtmp', state, since: 0, liveSince: null, error: null, participantId: `feed-${id}`, video, bitrateKbps: 0, sharedInto };
}

function meetingState(role: MeetingRole, changes: Partial<SessionState> = {}): SessionState {
  return joinedState({
    self: { id: 'self', identity: 'me', unitId: 'me', role, name: '本单位', isAdmin: false, handRaised: false, attributes: {} },
    permissions: { canPublish: true, canSubscribe: true, isAdmin: false, role, actions: [...ROLE_ACTIONS[role]] },
    meeting: { id: 'city-weekly', number: 12345678, title: '周例会', state: 'live', startsAt: null, chairUnitId: null },
    control,
    ...changes,
  });
}

function renderAs(role: MeetingRole, changes: Partial<SessionState> = {}) {
  const chair = { grantFloor: vi.fn(async () => ({})), endMeeting: vi.fn(async () => ({})), rollCallNext: vi.fn(async () => 'county-a') };
  const session = {
    setVisibleVideo: vi.fn(),
    markChatRead: vi.fn(),
    transportSample: vi.fn(async () => null),
    setHandRaised: vi.fn(async () => undefined),
    chair,
    meetingId: 'city-weekly',
    token: 't',
    listFeeds: vi.fn(async () => []),
    shareFeed: vi.fn(async () => undefined),
    unshareFeed: vi.fn(async () => {
      throw Object.assign(new Error('feed east is not shared into meeting city-weekly'), { code: 'NOT_FOUND' });
    }),
    startRecording: vi.fn(async () => 'rec-1'),
    stopRecording: vi.fn(async () => undefined),
    listSipLegs: vi.fn(async () => ({ legs: [], targets: [], terminals: [] })),
    dialSip: vi.fn(),
    hangupSip: vi.fn(async () => undefined),
  };
  render(MeetingView, { meeting: meetingState(role, changes), session: session as unknown as MeetingSession });
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

  it('brings feeds in and takes them out, showing a refusal inline', async () => {
    const feeds = [feed('east', 'live', ['city-weekly']), feed('west', 'waiting', [])];
    const { session } = renderAs('cochair', { feeds });
    await fireEvent.click(screen.getByTestId('toggle-chair-console'));
    await screen.findByTestId('chair-feeds');
    await waitFor(() => expect(session.listFeeds).toHaveBeenCalledOnce());
    const row = (id: string) => within(screen.getAllByTestId('chair-feed').find((element) => element.dataset.feedId === id)!);
    expect(row('east').getByTestId('feed-state').textContent).toContain('直播中');
    await fireEvent.click(row('west').getByTestId('chair-feed-share'));
    expect(session.shareFeed).toHaveBeenCalledWith('west');
    await fireEvent.click(row('east').getByTestId('chair-feed-unshare'));
    expect(session.unshareFeed).toHaveBeenCalledWith('east');
    expect((await screen.findByTestId('chair-feed-error')).textContent).toContain('对象不存在或已移除');
  });

  it('starts recording', async () => {
    const { session } = renderAs('chair');
    expect(screen.queryByTestId('recording-indicator')).toBeNull();
    await fireEvent.click(screen.getByTestId('toggle-chair-console'));
    await fireEvent.click(await screen.findByTestId('chair-start-recording'));
    expect(session.startRecording).toHaveBeenCalledOnce();
  });

  it('shows 录制中 while recording, and stopping asks first', async () => {
    const recording = { active: true, recordingId: 'rec-1', since: Date.now(), by: '市政府办公室' };
    const { session } = renderAs('chair', { recording });
    expect(screen.getByTestId('recording-indicator').textContent).toContain('录制中');
    await fireEvent.click(screen.getByTestId('toggle-chair-console'));
    expect((await screen.findByTestId('chair-recording-since')).textContent).toContain('市政府办公室');
    await fireEvent.click(screen.getByTestId('chair-stop-recording'));
    expect(session.stopRecording).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('stop-recording-confirm-button'));
    expect(session.stopRecording).toHaveBeenCalledOnce();
  });

  it('tells everyone when the recording stopped because the disk is full', () => {
    renderAs('participant', { chairNotice: { kind: 'recordingDiskFull', by: '', seq: 1 } });
    expect(screen.getByTestId('chair-notice').textContent).toContain('录制已停止：磁盘空间不足');
  });
});
