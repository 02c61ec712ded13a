// The command centre (指挥中心) rendered into happy-dom with a fake session: a tile per feed, live
// or not, with its state, bitrate, resolution and a ticking uptime; a tile enlarged by keyboard
// takes the top layer while the others shrink to thumbnails, and Esc or × returns to the grid.
import type { FeedStatus } from '@cityconf/signaling/protocol';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import CommandView from '../src/components/CommandView.svelte';
import type { MeetingSession, RemoteParticipant } from '../src/lib/MeetingSession';
import { joinedState } from './sessionState';

const NOW = Date.parse('2026-11-29T08:00:00Z');

function feed(id: string, changes: Partial<FeedStatus> = {}): FeedStatus {
  return {
    id,
    name: `${id} 号无人机`,
    kind: 'rtmp',
    state: 'waiting',
    since: NOW,
    liveSince: null,
    error: null,
    participantId: `feed-${id}`,
    video: null,
    bitrateKbps: 0,
    sharedInto: [],
    ...changes,
  };
}

function feedParticipant(feedId: string): RemoteParticipant {
  return {
    id: `feed-${feedId}`,
    identity: `feed:${feedId}`,
    unitId: `feed:${feedId}`,
    role: 'participant',
    name: `${feedId} 号无人机`,
    isAdmin: false,
    handRaised: false,
    attributes: { unit: '无人机与视频源' },
    feedId,
    media: [{ producerId: `${feedId}-camera`, kind: 'video', source: 'camera', paused: false, track: null }],
  };
}

const feeds = [
  feed('east', {
    state: 'live',
    liveSince: NOW - (1 * 3600 + 2 * 60 + 3) * 1000,
    video: { codec: 'H264', width: 1920, height: 1080, transcoded: false },
    bitrateKbps: 2480.4,
  }),
  feed('west', { state: 'reconnecting', video: { codec: 'H264', width: 1280, height: 720, transcoded: false }, bitrateKbps: 0 }),
  feed('river', { state: 'failed', error: 'rtsp://10.0.0.9 refused the connection' }),
  feed('north'),
];

function renderCommand(changes: Parameters<typeof joinedState>[0] = {}) {
  const setVisibleVideo = vi.fn<(videos: ReadonlyMap<string, number>) => void>();
  const listFeeds = vi.fn(async () => feeds);
  const session = { setVisibleVideo, listFeeds } as unknown as MeetingSession;
  const meeting = joinedState({ meetingId: 'command-centre', feeds, participants: [feedParticipant('east'), feedParticipant('west')], ...changes });
  render(CommandView, { meeting, session });
  return { setVisibleVideo, listFeeds };
}

const tile = (feedId: string): HTMLElement => screen.getAllByTestId('feed-tile').find((element) => element.dataset.feedId === feedId)!;
const lastVideos = (setVisibleVideo: ReturnType<typeof renderCommand>['setVisibleVideo']) => Object.fromEntries(setVisibleVideo.mock.lastCall?.[0] ?? []);

describe('CommandView', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  it('shows every feed with its state, numbers and errors, and counts those live', async () => {
    const { listFeeds } = renderCommand();
    expect(listFeeds).toHaveBeenCalledOnce();
    expect(screen.getByTestId('command-view').textContent).toContain('指挥中心');
    expect(screen.getByTestId('command-online').textContent).toContain('在线 1 / 4');
    expect(screen.getAllByTestId('feed-tile').map((element) => [element.dataset.feedId, element.dataset.state])).toEqual([
      ['east', 'live'],
      ['west', 'reconnecting'],
      ['river', 'failed'],
      ['north', 'waiting'],
    ]);
    const east = within(tile('east'));
    expect(east.getByTestId('feed-state').textContent).toBe('直播中 / Live');
    expect(east.getByTestId('feed-bitrate').textContent).toBe('2480 kbit/s');
    expect(east.getByTestId('feed-resolution').textContent).toBe('1920×1080');
    expect(east.getByTestId('feed-uptime').textContent).toBe('01:02:03');
    expect(within(tile('west')).getByTestId('feed-state').textContent).toContain('重连中');
    expect(within(tile('west')).getByTestId('feed-uptime').textContent).toBe('—');
    expect(within(tile('river')).getByTestId('feed-state').textContent).toContain('故障');
    expect(within(tile('river')).getByTestId('feed-error').textContent).toBe('rtsp://10.0.0.9 refused the connection');
    expect(within(tile('north')).getByTestId('feed-state').textContent).toContain('等待推流');
    expect(within(tile('north')).getByTestId('feed-resolution').textContent).toBe('—');

    await vi.advanceTimersByTimeAsync(2_000);
    expect(east.getByTestId('feed-uptime').textContent).toBe('01:02:05');
  });

  it('enlarges a feed with Enter, at the top layer, and returns to the grid with Esc or ×', async () => {
    const { setVisibleVideo } = renderCommand();
    // happy-dom lays nothing out: the grid is 0 px wide, so its tiles ask for the lowest layer.
    expect(lastVideos(setVisibleVideo)).toEqual({ 'east-camera': 0, 'west-camera': 0 });

    tile('west').focus();
    await fireEvent.keyDown(tile('west'), { key: 'Enter' });
    expect(screen.getByTestId('feed-enlarged').dataset.feedId).toBe('west');
    expect(screen.getByTestId('command-view').dataset.enlarged).toBe('west');
    expect(lastVideos(setVisibleVideo)).toEqual({ 'east-camera': 0, 'west-camera': 2 });
    expect(document.activeElement).toBe(screen.getByTestId('feed-close'));
    // The others stay as thumbnails.
    expect(screen.getAllByTestId('feed-tile')).toHaveLength(4);

    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('feed-enlarged')).toBeNull();
    expect(document.activeElement).toBe(tile('west'));

    await fireEvent.keyDown(tile('east'), { key: ' ' });
    expect(screen.getByTestId('feed-enlarged').dataset.feedId).toBe('east');
    await fireEvent.click(screen.getByTestId('feed-close'));
    expect(screen.queryByTestId('feed-enlarged')).toBeNull();
  });

  it('says how feeds are made when there are none', () => {
    renderCommand({ feeds: [], participants: [] });
    expect(screen.getByTestId('command-empty').textContent).toContain('暂无视频源');
    expect(screen.getByTestId('command-empty').textContent).toContain('POST /api/feeds');
    expect(screen.queryAllByTestId('feed-tile')).toHaveLength(0);
  });
});
