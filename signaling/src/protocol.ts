// The signaling protocol: every message between the web client and the server, in one place.
// This module has no runtime dependencies, so the web client imports it as is; the zod schemas
// that the server validates every request with are in protocol-schemas.ts, and the request
// payload types are inferred from them. Documented with examples in signaling/PROTOCOL.md.
import type { z } from 'zod';
import type { dtlsParametersSchema, requestSchemas, rtpCapabilitiesSchema, rtpParametersSchema } from './protocol-schemas.js';

/** Bumped when a message changes incompatibly; sent in the join reply. */
export const PROTOCOL_VERSION = 1;

/** Largest accepted request payload (serialized JSON, bytes). Larger ones get PAYLOAD_TOO_LARGE. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Stable error codes a client can switch on. */
export const ERROR_CODES = [
  'BAD_REQUEST', // payload failed validation; message names the field
  'PAYLOAD_TOO_LARGE', // request larger than MAX_REQUEST_BYTES
  'UNKNOWN_REQUEST', // no such request name
  'UNAUTHORIZED', // token missing, malformed or signed with another key
  'TOKEN_EXPIRED', // token's exp is in the past
  'FORBIDDEN', // token lacks the grant (roomJoin, canPublish, canSubscribe) or names another meeting
  'NOT_JOINED', // request needs a joined session (join first)
  'ALREADY_JOINED', // join sent twice on one connection
  'INVALID_STATE', // right request, wrong moment (e.g. consume before setRtpCapabilities)
  'NOT_FOUND', // unknown transport/producer/consumer id
  'UNSUPPORTED', // media that this server or this receiver cannot handle
  'MEDIA_ERROR', // the SFU rejected the parameters (e.g. invalid RTP parameters)
  'INTERNAL', // a server fault; safe to retry
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProtocolErrorBody {
  code: ErrorCode;
  message: string;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: ProtocolErrorBody };

/** Longest chat message, in characters. */
export const MAX_CHAT_CHARS = 2000;

/** Chat messages a joining participant receives (the most recent ones). */
export const CHAT_HISTORY_LENGTH = 200;

/** Meeting ids appear in URLs (/m/<meetingId>) and tokens: keep them URL-safe. */
export const MEETING_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const MEDIA_SOURCES = ['camera', 'microphone', 'screen'] as const;
export type MediaSource = (typeof MEDIA_SOURCES)[number];

export type RtpParameters = z.infer<typeof rtpParametersSchema>;
export type RtpCapabilities = z.infer<typeof rtpCapabilitiesSchema>;
export type DtlsParameters = z.infer<typeof dtlsParametersSchema>;

export type RequestName = keyof typeof requestSchemas;
export type RequestPayload<N extends RequestName> = z.infer<(typeof requestSchemas)[N]>;

// ---- reply payloads ---------------------------------------------------------------------------

export interface ProducerInfo {
  id: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  paused: boolean;
}

export interface ParticipantInfo {
  id: string;
  /** Stable id of the joining unit or person (token identity). */
  identity: string;
  /** Display name, e.g. "市应急管理局". */
  name: string;
  isAdmin: boolean;
  handRaised: boolean;
  /**
   * The token's LiveKit `attributes`, e.g. `{ "unit": "甲县/乙镇人民政府" }`: `unit` is the unit's
   * place in the city → county → town tree, '/'-separated, which the roster groups by.
   */
  attributes: Record<string, string>;
  producers: ProducerInfo[];
}

export interface ChatMessage {
  id: string;
  participantId: string;
  identity: string;
  name: string;
  text: string;
  /** Server time, ms since the epoch. */
  sentAt: number;
}

export interface Permissions {
  canPublish: boolean;
  canSubscribe: boolean;
  isAdmin: boolean;
}

export interface JoinReply {
  protocolVersion: number;
  meetingId: string;
  self: ParticipantInfo;
  permissions: Permissions;
  routerRtpCapabilities: RtpCapabilities;
  /** Everyone else already in the meeting, with their producers. */
  participants: ParticipantInfo[];
  /** The most recent chat messages (up to CHAT_HISTORY_LENGTH), oldest first. */
  chatHistory: ChatMessage[];
  /** Who is speaking now, if anyone (see the activeSpeaker event). */
  activeSpeakerId: string | null;
}

export interface IceParameters {
  usernameFragment: string;
  password: string;
  iceLite?: boolean;
}

export interface IceCandidate {
  foundation: string;
  priority: number;
  /** Same as `ip`; newer mediasoup-client versions read `address`. */
  address: string;
  ip: string;
  protocol: 'udp' | 'tcp';
  port: number;
  type: 'host';
  tcpType?: 'passive';
}

export interface TransportReply {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: DtlsParameters;
}

export interface ConsumeReply {
  id: string;
  producerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  rtpParameters: RtpParameters;
  /** Consumers start paused on the server; resumeConsumer starts media. */
  producerPaused: boolean;
}

export interface RequestReplies {
  join: JoinReply;
  setRtpCapabilities: Record<string, never>;
  createTransport: TransportReply;
  connectTransport: Record<string, never>;
  restartIce: { iceParameters: IceParameters };
  produce: { id: string };
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  closeProducer: Record<string, never>;
  consume: ConsumeReply;
  resumeConsumer: Record<string, never>;
  pauseConsumer: Record<string, never>;
  closeConsumer: Record<string, never>;
  setPreferredLayers: Record<string, never>;
  sendChat: { message: ChatMessage };
  setHandRaised: Record<string, never>;
  leave: Record<string, never>;
}

// ---- events (server → client, not acknowledged) ----------------------------------------------

export interface ServerEvents {
  participantJoined: { participant: ParticipantInfo };
  participantLeft: { participantId: string };
  producerAdded: { participantId: string; producer: ProducerInfo };
  producerUpdated: { participantId: string; producerId: string; paused: boolean };
  producerClosed: { participantId: string; producerId: string };
  /** A participant's state changed (hand raised or lowered). */
  participantUpdated: { participant: ParticipantInfo };
  /** A chat message from someone else (your own comes back in the sendChat reply). */
  chatMessage: { message: ChatMessage };
  /**
   * The server's choice of main speaker changed (mediasoup ActiveSpeakerObserver over everyone's
   * microphone; it keeps the last speaker through silence). null: nobody has spoken yet.
   */
  activeSpeaker: { participantId: string | null };
  /** A consumer of yours was closed by the server (its producer or transport went away). */
  consumerClosed: { consumerId: string };
  /**
   * The server ended your session: SESSION_REPLACED (same identity joined elsewhere),
   * MEDIA_SERVER_RESTARTED (the meeting's media worker died; join again to continue).
   */
  sessionEnded: { reason: 'SESSION_REPLACED' | 'MEDIA_SERVER_RESTARTED'; message: string };
}
export type ServerEventName = keyof ServerEvents;
