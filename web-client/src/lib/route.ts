// The pages of the client: `/` (enter a meeting link),
// `/m/<meetingId>?token=…[&autojoin=1][&kiosk=1][&videoCodec=h264]` and the receive-only
// command-centre wall `/wall/<meetingId>?token=…[&ids=identity1,identity2][&grid=3]`, and the
// command centre's drone and camera feeds `/command?token=…`.

/** Camera codec to send: VP8 (default) or H.264, which SIP rooms, MCUs and drones also speak. */
export type VideoCodec = 'vp8' | 'h264';

export type Route =
  | { page: 'home' }
  | {
      page: 'meeting';
      meetingId: string;
      token: string;
      autojoin: boolean;
      /** A meeting-room PC: joins at once, full screen, no controls but mute (implies autojoin). */
      kiosk: boolean;
      videoCodec: VideoCodec;
    }
  | {
      page: 'wall';
      meetingId: string;
      token: string;
      /** The identities to show, in this order; null: everyone. */
      identities: string[] | null;
      /** Tiles per row and column. */
      gridSize: number;
    }
  | {
      /** 指挥中心: every drone and camera feed, receive-only (the command-centre meeting). */
      page: 'command';
      token: string;
    };

const MAX_WALL_GRID = 6;

export function parseRoute(location: Location): Route {
  if (/^\/command\/?$/.test(location.pathname)) {
    return { page: 'command', token: new URLSearchParams(location.search).get('token') ?? '' };
  }
  const wall = /^\/wall\/([^/]+)\/?$/.exec(location.pathname);
  if (wall?.[1]) {
    const params = new URLSearchParams(location.search);
    const identities = (params.get('ids') ?? '').split(',').map((id) => id.trim()).filter(Boolean);
    const grid = Math.floor(Number(params.get('grid')));
    return {
      page: 'wall',
      meetingId: decodeURIComponent(wall[1]),
      token: params.get('token') ?? '',
      identities: identities.length > 0 ? identities : null,
      gridSize: grid >= 1 ? Math.min(grid, MAX_WALL_GRID) : 3,
    };
  }
  const match = /^\/m\/([^/]+)\/?$/.exec(location.pathname);
  if (!match?.[1]) return { page: 'home' };
  const params = new URLSearchParams(location.search);
  const autojoin = isOn(params.get('autojoin') ?? params.get('autoJoin'));
  const kiosk = isOn(params.get('kiosk'));
  return {
    page: 'meeting',
    meetingId: decodeURIComponent(match[1]),
    token: params.get('token') ?? '',
    autojoin: autojoin || kiosk,
    kiosk,
    videoCodec: params.get('videoCodec')?.toLowerCase() === 'h264' ? 'h264' : 'vp8',
  };
}

export function meetingPath(meetingId: string, token: string): string {
  return `/m/${encodeURIComponent(meetingId)}?${new URLSearchParams({ token })}`;
}

function isOn(value: string | null): boolean {
  return value === '1' || value === 'true';
}
