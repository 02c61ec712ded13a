// LiveKit webhook events built from LiveKit's own protobuf classes, so that field names, enum
// names and int64 encoding are exactly what LiveKit servers send and its SDKs parse.
import { randomBytes } from 'node:crypto';
import { ParticipantInfo, ParticipantInfo_State, Room, TrackInfo, TrackSource, TrackType, WebhookEvent } from '@livekit/protocol';

export interface WebhookRoom {
  sid: string;
  name: string;
  numParticipants?: number;
  /** ms since the epoch. */
  creationTime?: number;
  metadata?: string;
}

export interface WebhookParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata?: string;
  attributes?: Record<string, string>;
  /** ms since the epoch. */
  joinedAt?: number;
}

export interface WebhookTrack {
  sid: string;
  type: 'audio' | 'video';
  source: 'camera' | 'microphone' | 'screen';
  name?: string;
  muted?: boolean;
}

/** The LiveKit event names this server sends. */
export type WebhookEventName =
  | 'room_started'
  | 'room_finished'
  | 'participant_joined'
  | 'participant_left'
  | 'track_published'
  | 'track_unpublished';

/** One event, ready to post: the same body goes to every URL. */
export interface WebhookMessage {
  id: string;
  event: WebhookEventName;
  /** The `WebhookEvent` protobuf message as JSON (LiveKit's `application/webhook+json`). */
  body: string;
}

const TRACK_SOURCES: Record<WebhookTrack['source'], TrackSource> = {
  camera: TrackSource.CAMERA,
  microphone: TrackSource.MICROPHONE,
  screen: TrackSource.SCREEN_SHARE,
};

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** LiveKit's event id shape: `EV_` and 12 base62 characters. */
function eventId(): string {
  return `EV_${Array.from(randomBytes(12), (byte) => BASE62[byte % BASE62.length]).join('')}`;
}

function seconds(ms: number): bigint {
  return BigInt(Math.floor(ms / 1000));
}

function toRoom(room: WebhookRoom): Room {
  return new Room({
    sid: room.sid,
    name: room.name,
    numParticipants: room.numParticipants ?? 0,
    metadata: room.metadata ?? '',
    ...(room.creationTime === undefined
      ? {}
      : { creationTime: seconds(room.creationTime), creationTimeMs: BigInt(Math.floor(room.creationTime)) }),
  });
}

function toParticipant(participant: WebhookParticipant, state: ParticipantInfo_State): ParticipantInfo {
  return new ParticipantInfo({
    sid: participant.sid,
    identity: participant.identity,
    name: participant.name,
    state,
    metadata: participant.metadata ?? '',
    attributes: participant.attributes ?? {},
    ...(participant.joinedAt === undefined
      ? {}
      : { joinedAt: seconds(participant.joinedAt), joinedAtMs: BigInt(Math.floor(participant.joinedAt)) }),
  });
}

function toTrack(track: WebhookTrack): TrackInfo {
  return new TrackInfo({
    sid: track.sid,
    type: track.type === 'audio' ? TrackType.AUDIO : TrackType.VIDEO,
    source: TRACK_SOURCES[track.source],
    name: track.name ?? '',
    muted: track.muted ?? false,
  });
}

/**
 * Builds one event. A participant that left is DISCONNECTED; in every other event it is ACTIVE
 * (LiveKit sends participant_joined once the participant is active).
 */
export function buildWebhookMessage(
  event: WebhookEventName,
  room: WebhookRoom,
  participant?: WebhookParticipant,
  track?: WebhookTrack,
  now = Date.now(),
): WebhookMessage {
  const id = eventId();
  const state = event === 'participant_left' ? ParticipantInfo_State.DISCONNECTED : ParticipantInfo_State.ACTIVE;
  const message = new WebhookEvent({
    event,
    id,
    createdAt: seconds(now),
    room: toRoom(room),
    ...(participant ? { participant: toParticipant(participant, state) } : {}),
    ...(track ? { track: toTrack(track) } : {}),
  });
  return { id, event, body: message.toJsonString() };
}
