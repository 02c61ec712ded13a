import type { IncomingMessage } from 'node:http';
import type { AuthConfig } from '../config.js';
import type { LiveMeetings } from '../governance/LiveMeetings.js';
import type { Logger } from '../log.js';
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
}

/** ApiDeps with the defaults filled in. */
export type ApiContext = Required<ApiDeps>;

export const DEFAULT_LATE_GRACE_MS = 5 * 60_000;

export function withDefaults(deps: ApiDeps): ApiContext {
  return {
    ...deps,
    now: deps.now ?? Date.now,
    lateGraceMs: deps.lateGraceMs ?? DEFAULT_LATE_GRACE_MS,
    publicUrl: deps.publicUrl ?? hostUrl,
  };
}

function hostUrl(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim() || 'http';
  return `${proto}://${req.headers.host ?? 'localhost'}`;
}
