import { describe, expect, it } from 'vitest';
import { durationText, megabytesText, playableFile, withAccessToken, type Recording } from '../src/lib/recordingsApi';

function recording(changes: Partial<Recording>): Recording {
  return {
    id: 'r1',
    meetingId: 'city-weekly',
    title: '周例会',
    status: 'complete',
    startedAt: '2026-11-29T08:00:00.000Z',
    endedAt: '2026-11-29T09:00:00.000Z',
    durationS: 3600,
    sizeBytes: 0,
    tracks: [],
    composite: null,
    files: [],
    ...changes,
  };
}

const file = (name: string) => ({ name, sizeBytes: 1, url: `/api/recordings/r1/files/${name}`, downloadUrl: `/api/recordings/r1/files/${name}?download=1` });

describe('recordings', () => {
  it('plays the composite, else the first file, else nothing', () => {
    const files = [file('a.webm'), file('composite.mp4')];
    expect(playableFile(recording({ files, composite: { file: 'composite.mp4', sizeBytes: 1 } }))?.name).toBe('composite.mp4');
    expect(playableFile(recording({ files }))?.name).toBe('a.webm');
    expect(playableFile(recording({}))).toBeNull();
  });

  it('appends the token as access_token', () => {
    expect(withAccessToken('/api/recordings/r1/files/a.webm', 'x.y+z')).toBe('/api/recordings/r1/files/a.webm?access_token=x.y%2Bz');
    expect(withAccessToken('/f?download=1', 't')).toBe('/f?download=1&access_token=t');
  });

  it('reads the duration as mm:ss and the size in MB', () => {
    expect(durationText(3725)).toBe('62:05');
    expect(durationText(null)).toBeNull();
    expect(megabytesText(123_456_789)).toBe('123.5 MB');
  });
});
