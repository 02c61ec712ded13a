// LiveKit webhook events built from LiveKit's own protobuf classes, so that field names, enum
// names and int64 encoding are exactly what LiveKit servers send and its SDKs parse.
import { randomBytes } from 'node:crypto';
import {
  EgressInfo,
  EgressStatus,
  FileInfo,
  IngressInfo,
  IngressInput,
  IngressState,
  IngressState_Status,
  InputVideoState,
  ParticipantInfo,
  ParticipantInfo_State,
  Room,
  TrackInfo,
  TrackSource,
  TrackType,
  WebhookEvent,
} from '@livekit/protocol';

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

/** A drone or camera feed, as a LiveKit ingress. */
export interface WebhookIngress {
  id: string;
  name: string;
  kind: 'rtmp' | 'whip' | 'rtsp' | 'srt';
  /** The publisher's secret (pushed feeds): LiveKit sends the ingress's stream key in its webhooks too. */
  streamKey?: string;
  /** Where a pulled feed is read from. */
  url?: string;
  roomName: string;
  participantIdentity: string;
  participantName: string;
  /** LiveKit's name for it. */
  status: keyof typeof IngressState_Status;
  error?: string;
  /** ms since the epoch. */
  startedAt?: number;
  /** ms since the epoch. */
  endedAt?: number;
  video?: { codec: string | null; width: number; height: number };
}

/** A meeting recording, as a LiveKit egress. */
export interface WebhookEgress {
  id: string;
  roomName: string;
  /** LiveKit's name for it. */
  status: keyof typeof EgressStatus;
  error?: string;
  /** ms since the epoch. */
  startedAt: number;
  /** ms since the epoch. */
  endedAt?: number;
  files: WebhookFile[];
}

export interface WebhookFile {
  filename: string;
  bytes: number;
  durationMs: number;
  /** ms since the epoch. */
  startedAt?: number;
  /** ms since the epoch. */
  endedAt?: number;
}

export type RoomEventName =
  | 'room_started'
  | 'room_finished'
  | 'participant_joined'
  | 'participant_left'
  | 'track_published'
  | 'track_unpublished';
export type IngressEventName = 'ingress_started' | 'ingress_ended';
export type EgressEventName = 'egress_started' | 'egress_ended';

/** The LiveKit event names this server sends. */
export type WebhookEventName = RoomEventName | IngressEventName | EgressEventName;

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

const INGRESS_INPUTS: Record<WebhookIngress['kind'], IngressInput> = {
  rtmp: IngressInput.RTMP_INPUT,
  whip: IngressInput.WHIP_INPUT,
  rtsp: IngressInput.URL_INPUT,
  srt: IngressInput.URL_INPUT,
};

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** LiveKit's event id shape: `EV_` and 12 base62 characters. */
function eventId(): string {
  return `EV_${Array.from(randomBytes(12), (byte) => BASE62[byte % BASE62.length]).join('')}`;
}

function seconds(ms: number): bigint {
  return BigInt(Math.floor(ms / 1000));
}

/** Ingress and egress times are in nanoseconds, as LiveKit's services write them. */
function nanoseconds(ms: number | undefined): bigint {
  return ms === undefined ? 0n : BigInt(Math.floor(ms)) * 1_000_000n;
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

function toIngress(ingress: WebhookIngress): IngressInfo {
  const { video } = ingress;
  return new IngressInfo({
    ingressId: ingress.id,
    name: ingress.name,
    streamKey: ingress.streamKey ?? '',
    url: ingress.url ?? '',
    inputType: INGRESS_INPUTS[ingress.kind],
    roomName: ingress.roomName,
    participantIdentity: ingress.participantIdentity,
    participantName: ingress.participantName,
    state: new IngressState({
      status: IngressState_Status[ingress.status],
      error: ingress.error ?? '',
      startedAt: nanoseconds(ingress.startedAt),
      endedAt: nanoseconds(ingress.endedAt),
      ...(video
        ? { video: new InputVideoState({ mimeType: video.codec ? `video/${video.codec.toUpperCase()}` : '', width: video.width, height: video.height }) }
        : {}),
    }),
  });
}

function toFile(file: WebhookFile): FileInfo {
  return new FileInfo({
    filename: file.filename,
    size: BigInt(file.bytes),
    duration: nanoseconds(file.durationMs),
    startedAt: nanoseconds(file.startedAt),
    endedAt: nanoseconds(file.endedAt),
  });
}

function toEgress(egress: WebhookEgress): EgressInfo {
  return new EgressInfo({
    egressId: egress.id,
    roomName: egress.roomName,
    status: EgressStatus[egress.status],
    error: egress.error ?? '',
    startedAt: nanoseconds(egress.startedAt),
    endedAt: nanoseconds(egress.endedAt),
    fileResults: egress.files.map(toFile),
  });
}

function message(event: WebhookEventName, fields: NonNullable<ConstructorParameters<typeof WebhookEvent>[0]>, now: number): WebhookMessage {
  const id = eventId();
  const body = new WebhookEvent({ ...fields, event, id, createdAt: seconds(now) }).toJsonString();
  return { id, event, body };
}

/**
 * Builds one room event. A participant that left is DISCONNECTED; in every other event it is
 * ACTIVE (LiveKit sends participant_joined once the participant is active).
 */
export function buildWebhookMessage(
  event: RoomEventName,
  room: WebhookRoom,
  participant?: WebhookParticipant,
  track?: WebhookTrack,
  now = Date.now(),
): WebhookMessage {
  const state = event === 'participant_left' ? ParticipantInfo_State.DISCONNECTED : ParticipantInfo_State.ACTIVE;
  return message(
    event,
    {
      room: toRoom(room),
      ...(participant ? { participant: toParticipant(participant, state) } : {}),
      ...(track ? { track: toTrack(track) } : {}),
    },
    now,
  );
}

/** Builds an ingress event: like LiveKit's, it carries the ingress and no room. */
export function buildIngressMessage(event: IngressEventName, ingress: WebhookIngress, now = Date.now()): WebhookMessage {
  return message(event, { ingressInfo: toIngress(ingress) }, now);
}

/** Builds an egress event: like LiveKit's, it carries the egress and no room. */
export function buildEgressMessage(event: EgressEventName, egress: WebhookEgress, now = Date.now()): WebhookMessage {
  return message(event, { egressInfo: toEgress(egress) }, now);
}
