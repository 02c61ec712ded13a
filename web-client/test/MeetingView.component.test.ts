// The meeting view's gallery paging rendered into happy-dom with a fake session: the pager pages
// through the remote tiles, subscribes to exactly the video on the page shown, and a larger grid
// puts everyone on one page.
import { ROLE_ACTIONS } from '@cityconf/signaling/protocol';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import MeetingView from '../src/components/MeetingView.svelte';
import type { MeetingSession, RemoteParticipant, SessionState } from '../src/lib/MeetingSession';
import { joinedState } from './sessionState';

const REMOTE_COUNT = 20;

function participant(index: number): RemoteParticipant {
  const id = `p${String(index).padStart(2, '0')}`;
  return {
    id,
    identity: id,
    unitId: id,
    role: 'participant',
    name: `第${index}单位`,
    isAdmin: false,
    handRaised: false,
    attributes: {},
    media: [{ producerId: `${id}-camera`, kind: 'video', source: 'camera', paused: false, track: null }],
  };
}

function meetingState(): SessionState {
  return joinedState({
    self: { id: 'self', identity: 'city-office', unitId: 'city-office', role: 'chair', name: '市政府办公室', isAdmin: true, handRaised: false, attributes: {} },
    permissions: { canPublish: true, canSubscribe: true, isAdmin: true, role: 'chair', actions: [...ROLE_ACTIONS.chair] },
    participants: Array.from({ length: REMOTE_COUNT }, (_, index) => participant(index + 1)),
  });
}

/** Only what the meeting view calls while it is shown and paged. */
function fakeSession() {
  const setVisibleVideo = vi.fn<(videos: ReadonlyMap<string, number>) => void>();
  const session = { setVisibleVideo, markChatRead: vi.fn(), transportSample: vi.fn(async () => null) };
  return { session: session as unknown as MeetingSession, setVisibleVideo };
}

function tileIds(): string[] {
  return screen.queryAllByTestId('participant-tile').map((element) => element.dataset.participantId ?? '');
}

function visibleProducers(setVisibleVideo: ReturnType<typeof fakeSession>['setVisibleVideo']): string[] {
  return [...(setVisibleVideo.mock.lastCall?.[0].keys() ?? [])].sort();
}

/**
 * Chooses an option as a user would. Svelte's select binding reads the chosen option with
 * `:checked`, which happy-dom matches only on inputs, so the select answers that query itself.
 */
async function choose(select: HTMLSelectElement, value: string): Promise<void> {
  select.value = value;
  const querySelector = select.querySelector.bind(select);
  vi.spyOn(select, 'querySelector').mockImplementation((selectors: string) =>
    selectors === ':checked' ? (select.selectedOptions[0] ?? null) : querySelector(selectors),
  );
  await fireEvent.change(select);
}

describe('MeetingView gallery paging', () => {
  it('pages through the remote tiles and receives only the video on the page shown', async () => {
    const { session, setVisibleVideo } = fakeSession();
    render(MeetingView, { meeting: meetingState(), session });

    // 1024 px wide: a 4×4 grid, the local tile and 15 remote ones per page.
    expect((screen.getByTestId('grid-size') as HTMLSelectElement).value).toBe('4');
    expect(screen.getByTestId('page-label').textContent).toContain('第 1/2 页');
    expect((screen.getByTestId('previous-page') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('next-page') as HTMLButtonElement).disabled).toBe(false);
    const firstPage = tileIds();
    expect(firstPage).toHaveLength(15);
    expect(screen.getAllByTestId('local-tile')).toHaveLength(1);
    expect(visibleProducers(setVisibleVideo)).toEqual(firstPage.map((id) => `${id}-camera`).sort());

    await fireEvent.click(screen.getByTestId('next-page'));
    expect(screen.getByTestId('page-label').textContent).toContain('第 2/2 页');
    expect((screen.getByTestId('previous-page') as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByTestId('next-page') as HTMLButtonElement).disabled).toBe(true);
    const secondPage = tileIds();
    expect(secondPage).toHaveLength(REMOTE_COUNT - 15);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    expect(visibleProducers(setVisibleVideo)).toEqual(secondPage.map((id) => `${id}-camera`).sort());

    await fireEvent.click(screen.getByTestId('previous-page'));
    expect(screen.getByTestId('page-label').textContent).toContain('第 1/2 页');
    expect(tileIds()).toEqual(firstPage);
  });

  it('puts everyone on one page, without a pager, in a 5×5 grid', async () => {
    const { session, setVisibleVideo } = fakeSession();
    render(MeetingView, { meeting: meetingState(), session });
    await choose(screen.getByTestId('grid-size') as HTMLSelectElement, '5');
    expect(screen.queryByTestId('page-label')).toBeNull();
    expect(screen.queryByTestId('next-page')).toBeNull();
    expect(tileIds()).toHaveLength(REMOTE_COUNT);
    expect(visibleProducers(setVisibleVideo)).toHaveLength(REMOTE_COUNT);
  });

  it('marks a drone feed’s tile 视频源, and a silent feed is not shown muted', () => {
    const { session } = fakeSession();
    const drone: RemoteParticipant = { ...participant(1), id: 'feed-east', name: '城东无人机', feedId: 'east', attributes: { unit: '无人机与视频源' } };
    render(MeetingView, { meeting: { ...meetingState(), participants: [drone, participant(2)] }, session });
    const [feedTile, unitTile] = screen.getAllByTestId('participant-tile');
    expect(feedTile!.dataset.feedId).toBe('east');
    expect(feedTile!.querySelector('[data-testid="feed-badge"]')?.textContent).toBe('视频源 / Feed');
    expect(feedTile!.textContent).toContain('城东无人机');
    expect(feedTile!.querySelector('.muted')).toBeNull();
    expect(unitTile!.querySelector('[data-testid="feed-badge"]')).toBeNull();
  });
});
