import type { IncomingMessage } from 'node:http';
import type { AuthConfig } from '../config.js';
import type { RecordingLibrary } from '@cityconf/recordings';
import type { FeedManager } from '../feeds/FeedManager.js';
import type { RecordingControl } from '../recording/RecordingControl.js';
import type { LiveMeetings } from '../governance/LiveMeetings.js';
import type { Logger } from '../log.js';
import type { SipLegControl } from '../sip/SipLegControl.js';
import type { Store } from '../store/types.js';

/** What the admin API needs from the server. */
export interface ApiDeps {
  store: Store;
  auth: AuthConfig;
  /** The operator's API key (env OPERATOR_API_KEY); `Authorization: Bearer <key>` acts as operator. */
  operatorApiKey: string;
  live: LiveMeetings;
  logger: Logger;
  /** Clock (ms since the epoch); tests pass their own. */
  now?: () => number;
  /** How long after the start a first join still counts as on time (default 5 min). */
  lateGraceMs?: number;
  /** The base URL that join links start with (default: from the request's Host header). */
  publicUrl?: (req: IncomingMessage) => string;
  /** Drone and camera feeds (absent: the feed endpoints answer CONFLICT). */
  feeds?: FeedManager;
  /** The RTMP port publishers push to (0: no RTMP). */
  rtmpPort?: number;
  /** Meeting recording (absent: the recording endpoints answer CONFLICT). */
  recordings?: { library: RecordingLibrary; recorder: RecordingControl };
  /** Dialling out of meetings over SIP (absent with SIP_PORT=-1: the SIP leg endpoints answer CONFLICT). */
  sipLegs?: SipLegControl;
}

/** ApiDeps with the defaults filled in. */
export type ApiContext = Required<Omit<ApiDeps, 'feeds' | 'recordings' | 'sipLegs'>> & Pick<ApiDeps, 'feeds' | 'recordings' | 'sipLegs'>;

export const DEFAULT_LATE_GRACE_MS = 5 * 60_000;

export function withDefaults(deps: ApiDeps): ApiContext {
  return {
    ...deps,
    now: deps.now ?? Date.now,
    lateGraceMs: deps.lateGraceMs ?? DEFAULT_LATE_GRACE_MS,
    rtmpPort: deps.rtmpPort ?? 0,
    publicUrl: deps.publicUrl ?? hostUrl,
  };
}

function hostUrl(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim() || 'http';
  return `${proto}://${req.headers.host ?? 'localhost'}`;
}
