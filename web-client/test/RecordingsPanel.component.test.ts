// 录像 rendered into happy-dom over a mocked fetch (the client's own HTTP call is the seam): the
// list with start time, length, size, status and tracks, the composite played inline with the
// token as access_token, a download link per file, and delete for operators only.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import RecordingsPanel from '../src/components/RecordingsPanel.svelte';
import type { Recording } from '../src/lib/recordingsApi';

const files = (id: string, names: string[]) =>
  names.map((name) => ({ name, sizeBytes: 1_000_000, url: `/api/recordings/${id}/files/${name}`, downloadUrl: `/api/recordings/${id}/files/${name}?download=1` }));

const items: Recording[] = [
  {
    id: 'rec-2',
    meetingId: 'city-weekly',
    title: '周例会',
    status: 'complete',
    startedAt: '2026-11-29T09:00:00.000Z',
    endedAt: '2026-11-29T10:02:05.000Z',
    durationS: 3725,
    sizeBytes: 734_003_200,
    tracks: [
      { id: 't1', name: '市政府办公室', kind: 'video', codec: 'VP8', file: 'a.webm', sizeBytes: 1 },
      { id: 't2', name: '市政府办公室', kind: 'audio', codec: 'opus', file: 'b.webm', sizeBytes: 1 },
    ],
    composite: { file: 'composite.mp4', sizeBytes: 1 },
    files: files('rec-2', ['a.webm', 'b.webm', 'composite.mp4']),
  },
  {
    id: 'rec-1',
    meetingId: 'city-weekly',
    title: '周例会',
    status: 'stopped-disk-full',
    startedAt: '2026-11-28T09:00:00.000Z',
    endedAt: null,
    durationS: null,
    sizeBytes: 0,
    tracks: [],
    composite: null,
    files: [],
  },
];

function mockFetch() {
  const fetch = vi.fn(async (_url: string, init?: RequestInit) =>
    init?.method === 'DELETE' ? new Response(null, { status: 204 }) : Response.json({ items }),
  );
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

const item = (id: string): HTMLElement => screen.getAllByTestId('recording-item').find((element) => element.dataset.recordingId === id)!;

describe('RecordingsPanel', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('lists the meeting’s recordings fetched with the join token', async () => {
    const fetch = mockFetch();
    render(RecordingsPanel, { meetingId: 'city-weekly', token: 'join.token', canDelete: false });
    await waitFor(() => expect(screen.getAllByTestId('recording-item')).toHaveLength(2));
    expect(fetch).toHaveBeenCalledWith('/api/meetings/city-weekly/recordings', expect.objectContaining({ method: 'GET', headers: { authorization: 'Bearer join.token' } }));

    const done = within(item('rec-2'));
    expect(item('rec-2').dataset.status).toBe('complete');
    expect(done.getByTestId('recording-duration').textContent).toBe('62:05');
    expect(done.getByTestId('recording-size').textContent).toBe('734.0 MB');
    expect(done.getByTestId('recording-status').textContent).toContain('已完成');
    expect(item('rec-2').textContent).toContain('2 路音视频');
    expect(done.getAllByTestId('recording-download').map((link) => link.getAttribute('href'))).toEqual([
      '/api/recordings/rec-2/files/a.webm?download=1&access_token=join.token',
      '/api/recordings/rec-2/files/b.webm?download=1&access_token=join.token',
      '/api/recordings/rec-2/files/composite.mp4?download=1&access_token=join.token',
    ]);
    expect(screen.queryByTestId('recording-delete')).toBeNull();

    const stopped = within(item('rec-1'));
    expect(stopped.getByTestId('recording-status').textContent).toContain('磁盘已满');
    expect(stopped.getByTestId('recording-duration').textContent).toBe('—');
    expect(stopped.queryByTestId('recording-play')).toBeNull();
  });

  it('plays the composite inline and hides it again', async () => {
    mockFetch();
    render(RecordingsPanel, { meetingId: 'city-weekly', token: 'join.token', canDelete: false });
    const play = await waitFor(() => within(item('rec-2')).getByTestId('recording-play'));
    await fireEvent.click(play);
    expect(screen.getByTestId('recording-video').getAttribute('src')).toBe('/api/recordings/rec-2/files/composite.mp4?access_token=join.token');
    expect(play.getAttribute('aria-expanded')).toBe('true');
    await fireEvent.click(play);
    expect(screen.queryByTestId('recording-video')).toBeNull();
  });

  it('lets an operator delete a recording after confirming', async () => {
    const fetch = mockFetch();
    render(RecordingsPanel, { meetingId: 'city-weekly', token: 'operator.token', canDelete: true });
    await fireEvent.click(await waitFor(() => within(item('rec-1')).getByTestId('recording-delete')));
    expect(fetch).toHaveBeenCalledTimes(1);
    await fireEvent.click(screen.getByTestId('recording-delete-confirm-button'));
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(3));
    expect(fetch.mock.calls[1]).toEqual(['/api/recordings/rec-1', expect.objectContaining({ method: 'DELETE', headers: { authorization: 'Bearer operator.token' } })]);
  });

  it('says why the list could not be loaded', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Response.json({ error: { code: 'FORBIDDEN', message: 'chair roles only' } }, { status: 403 })));
    render(RecordingsPanel, { meetingId: 'city-weekly', token: 'participant.token', canDelete: false });
    expect((await screen.findByTestId('recordings-error')).textContent).toContain('无法加载录像：chair roles only');
  });
});
