import { describe, expect, it } from 'vitest';
import { clockText } from '../src/lib/clockText';
import { bitrateText, feedVideos, resolutionText, uptimeText } from '../src/lib/commandPlan';

describe('feedVideos', () => {
  const videos = [
    { feedId: 'drone-1', producerId: 'p1' },
    { feedId: 'drone-2', producerId: 'p2' },
    { feedId: 'waiting', producerId: null },
  ];

  it('receives every grid video at the layer its tile width needs', () => {
    expect(feedVideos(videos, null, 700)).toEqual(new Map([['p1', 2], ['p2', 2]]));
    expect(feedVideos(videos, null, 300)).toEqual(new Map([['p1', 0], ['p2', 0]]));
  });

  it('gives the enlarged feed the top layer and the thumbnails the lowest', () => {
    expect(feedVideos(videos, 'drone-2', 300)).toEqual(new Map([['p1', 0], ['p2', 2]]));
  });

  it('treats an enlarged feed that is gone as no enlarged feed', () => {
    expect(feedVideos(videos, 'removed', 400)).toEqual(new Map([['p1', 1], ['p2', 1]]));
  });
});

describe('feed facts', () => {
  it('reads the uptime as hh:mm:ss since liveSince, and none when not live', () => {
    expect(uptimeText(1_000, 1_000 + (3 * 3600 + 25 * 60 + 7) * 1000 + 999)).toBe('03:25:07');
    expect(uptimeText(5_000, 1_000)).toBe('00:00:00');
    expect(uptimeText(null, 1_000)).toBeNull();
  });

  it('reads resolution and bitrate', () => {
    expect(resolutionText({ codec: 'H264', width: 1920, height: 1080, transcoded: false })).toBe('1920×1080');
    expect(resolutionText({ codec: null, width: null, height: null, transcoded: false })).toBeNull();
    expect(resolutionText(null)).toBeNull();
    expect(bitrateText(2499.6)).toBe('2500 kbit/s');
  });
});

describe('clockText', () => {
  it('reads hh:mm:ss or mm:ss, minutes growing past 59 without hours', () => {
    expect(clockText(59.9, { hours: true })).toBe('00:00:59');
    expect(clockText(100 * 3600 + 61, { hours: true })).toBe('100:01:01');
    expect(clockText(2 * 3600 + 3, { hours: false })).toBe('120:03');
    expect(clockText(-5, { hours: false })).toBe('00:00');
  });
});
