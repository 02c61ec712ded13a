// Which video the composite shows when, from the timeline and the tracks' times.
import { expect, it } from 'vitest';
import { planShownVideo, type PlacedTrack, type RecordingManifest, type TimelineEntry, type TrackEntry } from '@cityconf/recordings';

function video(id: string, participantId: string, startS: number, endS: number, source: TrackEntry['source'] = 'camera'): PlacedTrack {
  const track: TrackEntry = { id, file: `${id}.webm`, kind: 'video', codec: 'vp8', participantId, name: participantId, source, startedAt: '' };
  return { track, path: track.file, startS, endS };
}

function plan(timeline: TimelineEntry[], tracks: PlacedTrack[], durationS: number) {
  const manifest = { timeline } as RecordingManifest;
  return planShownVideo(manifest, tracks, durationS).map(({ trackId, fromS, toS }) => `${trackId ?? 'black'} ${fromS}-${toS}`);
}

const speaker = (offsetS: number, participantId: string | null): TimelineEntry => ({ offsetMs: offsetS * 1000, kind: 'speaker', participantId });
const broadcast = (offsetS: number, participantId: string | null): TimelineEntry => ({ offsetMs: offsetS * 1000, kind: 'broadcast', participantId });

it('follows the speaker, and the broadcast venue over the speaker', () => {
  const tracks = [video('a', 'a', 0, 60), video('b', 'b', 0, 60), video('c', 'c', 0, 60)];
  expect(plan([speaker(0, 'a'), speaker(10, 'b'), broadcast(20, 'c'), speaker(30, 'a'), broadcast(40, null)], tracks, 60)).toEqual([
    'a 0-10',
    'b 10-20',
    'c 20-40',
    'a 40-60',
  ]);
});

it('keeps the last picture while the focus has no video, then black when that picture ends', () => {
  const tracks = [video('a', 'a', 0, 15), video('b', 'b', 25, 60)];
  expect(plan([speaker(0, 'a'), speaker(10, 'b')], tracks, 60)).toEqual(['a 0-15', 'black 15-25', 'b 25-60']);
});

it('shows black before anyone speaks, and a screen share before the camera', () => {
  const tracks = [video('cam', 'a', 0, 60), video('screen', 'a', 20, 40, 'screen')];
  expect(plan([speaker(5, 'a')], tracks, 60)).toEqual(['black 0-5', 'cam 5-20', 'screen 20-40', 'cam 40-60']);
});
