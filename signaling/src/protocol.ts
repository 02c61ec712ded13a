// The signaling protocol: every message between the web client and the server, in one place.
// The server validates every inbound request with these schemas; the client imports the same
// module for its types. Documented with examples in signaling/PROTOCOL.md.
import { z } from 'zod';

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

// ---- shared value schemas ------------------------------------------------------------------

const id = z.string().min(1).max(128);
/** Meeting ids appear in URLs (/m/<meetingId>) and tokens: keep them URL-safe. */
export const meetingIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'meetingId must be 1–64 characters of A–Z a–z 0–9 _ . -');

export const mediaSourceSchema = z.enum(['camera', 'microphone', 'screen']);
export type MediaSource = z.infer<typeof mediaSourceSchema>;

// mediasoup validates RTP/DTLS structures in depth; these schemas check the outer shape so that
// garbage is refused before it reaches the SFU.
const rtpCodecParameters = z.looseObject({
  mimeType: z.string().regex(/^(audio|video)\/[A-Za-z0-9.-]+$/),
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  rtcpFeedback: z.array(z.looseObject({ type: z.string(), parameter: z.string().optional() })).optional(),
});
export const rtpParametersSchema = z.looseObject({
  mid: z.string().optional(),
  codecs: z.array(rtpCodecParameters).min(1).max(32),
  headerExtensions: z.array(z.looseObject({ uri: z.string(), id: z.number().int() })).max(32).optional(),
  encodings: z.array(z.looseObject({})).max(8).optional(),
  rtcp: z.looseObject({}).optional(),
});
export const rtpCapabilitiesSchema = z.looseObject({
  codecs: z.array(z.looseObject({ kind: z.enum(['audio', 'video']), mimeType: z.string(), clockRate: z.number() })).max(64),
  headerExtensions: z.array(z.looseObject({})).max(64).optional(),
});
export const dtlsParametersSchema = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.looseObject({ algorithm: z.string(), value: z.string() })).min(1).max(8),
});

export type RtpParameters = z.infer<typeof rtpParametersSchema>;
export type RtpCapabilities = z.infer<typeof rtpCapabilitiesSchema>;
export type DtlsParameters = z.infer<typeof dtlsParametersSchema>;

// ---- requests (client → server, acknowledged) -----------------------------------------------

export const requestSchemas = {
  /** Enter a meeting. The token's room grant must equal meetingId. */
  join: z.strictObject({ meetingId: meetingIdSchema, token: z.string().min(1).max(8192) }),
  /** The client's device.rtpCapabilities; needed before consume. */
  setRtpCapabilities: z.strictObject({ rtpCapabilities: rtpCapabilitiesSchema }),
  createTransport: z.strictObject({ direction: z.enum(['send', 'recv']) }),
  connectTransport: z.strictObject({ transportId: id, dtlsParameters: dtlsParametersSchema }),
  restartIce: z.strictObject({ transportId: id }),
  produce: z.strictObject({
    transportId: id,
    kind: z.enum(['audio', 'video']),
    rtpParameters: rtpParametersSchema,
    source: mediaSourceSchema,
  }),
  pauseProducer: z.strictObject({ producerId: id }),
  resumeProducer: z.strictObject({ producerId: id }),
  closeProducer: z.strictObject({ producerId: id }),
  /** Creates a consumer on the recv transport, paused; call resumeConsumer once it is set up. */
  consume: z.strictObject({ producerId: id }),
  resumeConsumer: z.strictObject({ consumerId: id }),
  pauseConsumer: z.strictObject({ consumerId: id }),
  setPreferredLayers: z.strictObject({
    consumerId: id,
    spatialLayer: z.number().int().min(0).max(3),
    temporalLayer: z.number().int().min(0).max(3).optional(),
  }),
  leave: z.strictObject({}),
} as const;

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
  producers: ProducerInfo[];
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
}

export interface TransportReply {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
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
  restartIce: { iceParameters: unknown };
  produce: { id: string };
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  closeProducer: Record<string, never>;
  consume: ConsumeReply;
  resumeConsumer: Record<string, never>;
  pauseConsumer: Record<string, never>;
  setPreferredLayers: Record<string, never>;
  leave: Record<string, never>;
}

// ---- events (server → client, not acknowledged) ----------------------------------------------

export interface ServerEvents {
  participantJoined: { participant: ParticipantInfo };
  participantLeft: { participantId: string };
  producerAdded: { participantId: string; producer: ProducerInfo };
  producerUpdated: { participantId: string; producerId: string; paused: boolean };
  producerClosed: { participantId: string; producerId: string };
  /** A consumer of yours was closed by the server (its producer or transport went away). */
  consumerClosed: { consumerId: string };
  /**
   * The server ended your session: SESSION_REPLACED (same identity joined elsewhere),
   * MEDIA_SERVER_RESTARTED (the meeting's media worker died; join again to continue).
   */
  sessionEnded: { reason: 'SESSION_REPLACED' | 'MEDIA_SERVER_RESTARTED'; message: string };
}
export type ServerEventName = keyof ServerEvents;
