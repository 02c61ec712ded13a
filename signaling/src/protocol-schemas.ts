// Runtime validation of every request the server accepts (zod). The wire types in protocol.ts are
// inferred from these schemas; the web client never loads this module.
import { z } from 'zod';
import { FLOOR_MODES, MAX_CHAT_CHARS, MEDIA_SOURCES, MEETING_ID_PATTERN, ROLL_CALL_RESULTS } from './protocol.js';

const id = z.string().min(1).max(128);
export const meetingIdSchema = z
  .string()
  .regex(MEETING_ID_PATTERN, 'meetingId must be 1–64 characters of A–Z a–z 0–9 _ . -');

export const mediaSourceSchema = z.enum(MEDIA_SOURCES);

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


// ---- requests (client → server, acknowledged) -----------------------------------------------

export const requestSchemas = {
  /** Enter a meeting. The token's room grant must equal meetingId. */
  join: z.strictObject({ meetingId: meetingIdSchema, token: z.string().min(1).max(8192) }),
  /** The client's device.rtpCapabilities; needed before consume. */
  setRtpCapabilities: z.strictObject({ rtpCapabilities: rtpCapabilitiesSchema }),
  createTransport: z.strictObject({ direction: z.enum(['send', 'recv']) }),
  connectTransport: z.strictObject({ transportId: id, dtlsParameters: dtlsParametersSchema }),
  /**
   * Plain RTP over UDP (no ICE, no DTLS): meeting-room terminals, bridges, load-test bots. A send
   * transport learns the sender's address from its first packet (comedia) unless comedia is false.
   */
  createPlainTransport: z.strictObject({
    direction: z.enum(['send', 'recv']),
    rtcpMux: z.boolean().optional(),
    comedia: z.boolean().optional(),
  }),
  /** Where the server sends a plain recv transport's RTP (and RTCP if not multiplexed). */
  connectPlainTransport: z.strictObject({
    transportId: id,
    ip: z.union([z.ipv4(), z.ipv6()]),
    port: z.number().int().min(1).max(65535),
    rtcpPort: z.number().int().min(1).max(65535).optional(),
  }),
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
  /** Stop receiving a producer (e.g. a tile hidden for a while); consume it again to resume. */
  closeConsumer: z.strictObject({ consumerId: id }),
  setPreferredLayers: z.strictObject({
    consumerId: id,
    spatialLayer: z.number().int().min(0).max(3),
    temporalLayer: z.number().int().min(0).max(3).optional(),
    /** When bandwidth is short, higher-priority consumers get it first (mediasoup; 1–255, default 1). */
    priority: z.number().int().min(1).max(255).optional(),
  }),
  /** A chat message to everyone in the meeting. */
  sendChat: z.strictObject({ text: z.string().trim().min(1).max(MAX_CHAT_CHARS) }),
  setHandRaised: z.strictObject({ raised: z.boolean() }),
  leave: z.strictObject({}),

  // ---- chair console: the server checks the sender's role (ROLE_ACTIONS) ----
  /** Pauses every microphone except the chairs'; allowSelfUnmute says whether units may unmute. */
  muteAll: z.strictObject({ allowSelfUnmute: z.boolean() }),
  setAllowSelfUnmute: z.strictObject({ allowed: z.boolean() }),
  setFloorMode: z.strictObject({ mode: z.enum(FLOOR_MODES) }),
  setLocked: z.strictObject({ locked: z.boolean() }),
  /** Pauses a participant's microphone or camera (they are told with chairNotice). */
  muteParticipant: z.strictObject({ participantId: id, source: z.enum(['microphone', 'camera']) }),
  /** Asks a participant to unmute (a prompt; microphones are never opened remotely). */
  requestUnmute: z.strictObject({ participantId: id }),
  removeParticipant: z.strictObject({ participantId: id }),
  endMeeting: z.strictObject({}),
  grantFloor: z.strictObject({ unitId: id }),
  denyFloor: z.strictObject({ unitId: id }),
  revokeFloor: z.strictObject({ unitId: id }),
  /** Calls one unit (it shows large for everyone; its microphone may open). */
  rollCall: z.strictObject({ unitId: id }),
  /** Calls the next invited unit not called yet; unitId null when everyone has been called. */
  rollCallNext: z.strictObject({}),
  markRollCall: z.strictObject({ unitId: id, result: z.enum(ROLL_CALL_RESULTS) }),
  /** Ends the current call (nobody shown large by roll call). */
  finishRollCall: z.strictObject({}),
  /** 广播会场: everyone's main view shows this unit; null cancels. */
  setBroadcast: z.strictObject({ unitId: id.nullable() }),
  /** The feeds and their status (chair console, command centre). */
  listFeeds: z.strictObject({}),
  /** Brings a feed into this meeting as a participant tile. */
  shareFeed: z.strictObject({ feedId: id }),
  unshareFeed: z.strictObject({ feedId: id }),
  startRecording: z.strictObject({}),
  stopRecording: z.strictObject({}),
  /** The meeting's SIP legs, the cascade targets and the room terminals a chair may dial. */
  listSipLegs: z.strictObject({}),
  /** Dials an upper-level MCU (cascade target) or a unit's room terminal out of this meeting. */
  dialSip: z.union([z.strictObject({ targetId: id }), z.strictObject({ unitId: id })], {
    error: 'send { targetId } of a cascade target or { unitId } of a unit with a room terminal',
  }),
  hangupSip: z.strictObject({ legId: id }),
} as const;
