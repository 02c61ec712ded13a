import { AccessToken, TokenVerifier, type VideoGrant } from 'livekit-server-sdk';
import type { AuthConfig } from '../config.js';
import { ProtocolError } from '../errors.js';
import { isChairRole, isMeetingRole, type MeetingRole } from '../governance/roles.js';

export interface MintOptions {
  room: string;
  identity: string;
  name: string;
  admin?: boolean;
  canPublish?: boolean;
  canSubscribe?: boolean;
  /** Lifetime in seconds (default 24 h); negative mints an already-expired token (tests). */
  ttlSeconds?: number;
  /** LiveKit participant attributes, e.g. { unit: '甲县/乙镇人民政府' }. */
  attributes?: Record<string, string>;
  /** Invisible to the others and receive-only (command-centre walls, recorders). */
  hidden?: boolean;
  /**
   * The meeting role, carried in the token's metadata (`{"role":…,"unitId":…}`). Chair roles also
   * set roomAdmin; observer clears canPublish. Default: chair if `admin`, else participant.
   */
  role?: MeetingRole;
  /** The unit the participant speaks for (attendance and roll call key on it); default: identity. */
  unitId?: string;
}

/** What a verified join token allows. */
export interface JoinGrant {
  identity: string;
  name: string;
  room: string;
  canPublish: boolean;
  canSubscribe: boolean;
  isAdmin: boolean;
  /** LiveKit source names ('camera', 'microphone', 'screen_share'); undefined allows all. */
  canPublishSources?: string[];
  attributes: Record<string, string>;
  /** LiveKit's `hidden`: not in the others' roster, never publishes, chats or raises a hand. */
  hidden: boolean;
  role: MeetingRole;
  /** The unit this participant is (attendance, roll call); the identity when the token names none. */
  unitId: string;
}

/** The token metadata this server writes and reads. */
interface TokenMetadata {
  role?: MeetingRole;
  unitId?: string;
}

/** Mints a LiveKit-format access token (video grant) that this server accepts. */
export async function mintToken(auth: AuthConfig, options: MintOptions): Promise<string> {
  const role = options.role ?? (options.admin ? 'chair' : 'participant');
  const metadata: TokenMetadata = { role, ...(options.unitId ? { unitId: options.unitId } : {}) };
  const token = new AccessToken(auth.apiKey, auth.apiSecret, {
    identity: options.identity,
    name: options.name,
    ttl: `${options.ttlSeconds ?? 24 * 3600}s`,
    attributes: options.attributes,
    metadata: JSON.stringify(metadata),
  });
  token.addGrant({
    room: options.room,
    roomJoin: true,
    canPublish: role !== 'observer' && (options.canPublish ?? true),
    canSubscribe: options.canSubscribe ?? true,
    roomAdmin: options.admin ?? isChairRole(role),
    hidden: options.hidden ?? false,
  });
  return token.toJwt();
}

/**
 * Verifies a join token for `meetingId`. Tokens minted by the LiveKit CLI or SDKs with the same
 * key and secret work too. Throws ProtocolError UNAUTHORIZED, TOKEN_EXPIRED or FORBIDDEN.
 */
export async function verifyJoinToken(auth: AuthConfig, token: string, meetingId: string): Promise<JoinGrant> {
  let claims;
  try {
    claims = await new TokenVerifier(auth.apiKey, auth.apiSecret).verify(token, 5);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') {
      throw new ProtocolError('TOKEN_EXPIRED', 'the join token has expired: ask the meeting organiser for a new link');
    }
    throw new ProtocolError('UNAUTHORIZED', 'the join token is not valid for this server (malformed, or signed with another key)');
  }
  const video: VideoGrant = claims.video ?? {};
  if (!claims.sub) throw new ProtocolError('UNAUTHORIZED', 'the join token has no identity (sub)');
  if (!video.roomJoin) throw new ProtocolError('FORBIDDEN', 'the join token does not grant roomJoin');
  if (video.room !== meetingId) {
    throw new ProtocolError('FORBIDDEN', `the join token is for meeting "${video.room ?? ''}", not "${meetingId}"`);
  }
  const { role, unitId } = roleOf(claims.metadata, claims.sub, video);
  return {
    identity: claims.sub,
    name: claims.name || claims.sub,
    room: video.room,
    // LiveKit's defaults: publishing and subscribing are allowed unless the grant says otherwise.
    // Hidden participants and observers only watch.
    canPublish: !video.hidden && role !== 'observer' && (video.canPublish ?? true),
    canSubscribe: video.canSubscribe ?? true,
    isAdmin: isChairRole(role),
    canPublishSources: video.canPublishSources?.length ? video.canPublishSources.map(String) : undefined,
    attributes: stringRecord(claims.attributes),
    hidden: video.hidden ?? false,
    role,
    unitId,
  };
}

/**
 * The role and unit from the token metadata. Tokens without them (LiveKit CLI, other SDKs) get
 * chair when they carry roomAdmin, observer when they cannot publish, participant otherwise.
 */
function roleOf(metadata: string | undefined, identity: string, video: VideoGrant): { role: MeetingRole; unitId: string } {
  let parsed: TokenMetadata = {};
  try {
    const value: unknown = metadata ? JSON.parse(metadata) : {};
    if (value && typeof value === 'object') parsed = value as TokenMetadata;
  } catch {
    // metadata that is not ours (free text): ignore it
  }
  const fallback: MeetingRole = video.roomAdmin ? 'chair' : video.canPublish === false ? 'observer' : 'participant';
  const role = isMeetingRole(parsed.role) ? parsed.role : fallback;
  const unitId = typeof parsed.unitId === 'string' && parsed.unitId ? parsed.unitId : identity;
  return { role, unitId };
}

/** Attributes as string → string; anything else in a hand-made token is dropped. */
function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
