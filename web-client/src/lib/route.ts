// The two pages of the client: `/` (enter a meeting link) and
// `/m/<meetingId>?token=…[&autojoin=1][&videoCodec=h264]`.

/** Camera codec to send: VP8 (default) or H.264, which SIP rooms, MCUs and drones also speak. */
export type VideoCodec = 'vp8' | 'h264';

export type Route =
  | { page: 'home' }
  | { page: 'meeting'; meetingId: string; token: string; autojoin: boolean; videoCodec: VideoCodec };

export function parseRoute(location: Location): Route {
  const match = /^\/m\/([^/]+)\/?$/.exec(location.pathname);
  if (!match?.[1]) return { page: 'home' };
  const params = new URLSearchParams(location.search);
  const autojoin = params.get('autojoin') ?? params.get('autoJoin');
  return {
    page: 'meeting',
    meetingId: decodeURIComponent(match[1]),
    token: params.get('token') ?? '',
    autojoin: autojoin === '1' || autojoin === 'true',
    videoCodec: params.get('videoCodec')?.toLowerCase() === 'h264' ? 'h264' : 'vp8',
  };
}

export function meetingPath(meetingId: string, token: string): string {
  return `/m/${encodeURIComponent(meetingId)}?${new URLSearchParams({ token })}`;
}
