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
  'MEETING_ENDED', // the meeting has ended; it cannot be joined again
  'MEETING_LOCKED', // the chair locked the meeting; only chairs and operators may join
  'FLOOR_REQUIRED', // the microphone stays off until the chair grants the floor (raise a hand)
  'RATE_LIMITED', // too many requests (or chat messages) in a short time: slow down and retry
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

// ---- roles and what they may do ---------------------------------------------------------------

export const MEETING_ROLES = ['operator', 'chair', 'cochair', 'participant', 'observer', 'terminal'] as const;
/**
 * operator 管理员 (system admin, may run any meeting), chair 主持人, cochair 副主持人,
 * participant 参会单位, observer 列席/旁听 (receive only), terminal 会议室终端.
 * Carried in the join token's metadata (`{"role":"chair","unitId":"…"}`).
 */
export type MeetingRole = (typeof MEETING_ROLES)[number];

/** Everything a role may or may not do in a meeting; the server checks every request against it. */
export const MEETING_ACTIONS = [
  'publish', // send camera/microphone/screen
  'chat',
  'raiseHand',
  'joinLocked', // enter a locked meeting
  'muteAll',
  'setAllowSelfUnmute',
  'muteParticipant', // pause someone's microphone or camera
  'requestUnmute',
  'removeParticipant',
  'lockMeeting',
  'endMeeting',
  'setFloorMode',
  'grantFloor', // also deny and revoke
  'rollCall', // call, walk, mark, finish
  'broadcastVenue',
  'exportAttendance',
  'shareFeed', // bring a drone/camera feed into the meeting, or take it out
  'record', // start and stop recording the meeting
  'cascade', // dial out to an upper MCU or a room terminal, hang SIP legs up
] as const;
export type MeetingAction = (typeof MEETING_ACTIONS)[number];

const UNIT_ACTIONS: readonly MeetingAction[] = ['publish', 'chat', 'raiseHand'];

/** The permission table. Co-chairs do everything the chair does except end the meeting. */
export const ROLE_ACTIONS: Record<MeetingRole, readonly MeetingAction[]> = {
  operator: MEETING_ACTIONS,
  chair: MEETING_ACTIONS,
  cochair: MEETING_ACTIONS.filter((action) => action !== 'endMeeting'),
  participant: UNIT_ACTIONS,
  terminal: UNIT_ACTIONS,
  observer: [],
};

export function can(role: MeetingRole, action: MeetingAction): boolean {
  return ROLE_ACTIONS[role].includes(action);
}

/** Roles that run the meeting: floor control never holds their microphones. */
export const isChairRole = (role: MeetingRole): boolean => role === 'chair' || role === 'cochair' || role === 'operator';

// ---- meeting control (chair console) ----------------------------------------------------------

export const FLOOR_MODES = ['free', 'controlled'] as const;
/** free: everyone may unmute; controlled 发言控制: only units granted the floor may. */
export type FloorMode = (typeof FLOOR_MODES)[number];

export const ROLL_CALL_RESULTS = ['present', 'absent'] as const;
export type RollCallResult = (typeof ROLL_CALL_RESULTS)[number];

export interface RaisedHand {
  unitId: string;
  participantId: string;
  name: string;
  /** Server time, ms since the epoch: the queue is in this order. */
  raisedAt: number;
}

/**
 * The chair-controlled state of a meeting, sent in the join reply and in every controlChanged
 * event (whole, small: per-unit roll-call results travel separately). `version` grows with every
 * change, so a client can drop a stale copy.
 */
export interface MeetingControlState {
  version: number;
  /** No new participant except chairs and operators. */
  locked: boolean;
  floorMode: FloorMode;
  /** After "mute all": may participants unmute themselves (only in free floor mode). */
  allowSelfUnmute: boolean;
  /** Units granted the floor (their microphones may be on whatever the mode). */
  floorUnitIds: string[];
  /** Raised hands, first raised first. */
  handQueue: RaisedHand[];
  /** 广播会场: the unit everyone sees large, or null. */
  broadcastUnitId: string | null;
  /** 主会场: shown large when nothing is broadcast and nobody is being called. */
  mainVenueUnitId: string | null;
  rollCall: {
    /** The unit being called now (everyone sees it large), or null. */
    currentUnitId: string | null;
    /** Units called at least once / marked present / marked absent. */
    called: number;
    present: number;
    absent: number;
    /** Units to call: the invited units (or, in an ad-hoc meeting, everyone who joined). */
    total: number;
  };
}

/** Roll-call progress per unit: called but not marked yet, or the mark. */
export type RollCallStatus = 'called' | RollCallResult;

/** The meeting as participants see it. */
export interface MeetingSummary {
  id: string;
  /** 会议号 */
  number: number;
  title: string;
  state: 'scheduled' | 'live' | 'ended';
  /** ms since the epoch; null for ad-hoc meetings. */
  startsAt: number | null;
  chairUnitId: string | null;
}

export const UNIT_LEVELS = ['city', 'county', 'town', 'department'] as const;
export type UnitLevel = (typeof UNIT_LEVELS)[number];

/** A unit of the directory, as the roster needs it. */
export interface DirectoryUnit {
  id: string;
  name: string;
  level: UnitLevel;
  parentId: string | null;
}

/**
 * The units of a scheduled meeting (invited, chairing, observing) and their ancestors, so the
 * roster shows every invited unit online or offline ("在线 312 / 550"). Ad-hoc meetings have none.
 */
export interface MeetingDirectory {
  /** Invited units and their ancestors, parents before children, siblings in directory order. */
  units: DirectoryUnit[];
  /** The units expected in the meeting (roll-call order). */
  invitedUnitIds: string[];
}
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
  /** The unit this participant is (usually equal to identity). */
  unitId: string;
  role: MeetingRole;
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
  /** Set when this participant is a drone or camera feed shared into the meeting (not a unit). */
  feedId?: string;
}

// ---- feeds (drone and camera video) and recording -------------------------------------------------

export const FEED_STATES = ['waiting', 'live', 'reconnecting', 'failed'] as const;
/**
 * waiting 等待推流: no publisher yet (pushed feeds) or the source is being opened (pulled ones);
 * live 直播中; reconnecting 重连中: the publisher went away or the source dropped, and is being
 * waited for / read again; failed 故障: the last attempt failed (see `error`); a pushed feed
 * still accepts its publisher's next connection.
 */
export type FeedState = (typeof FEED_STATES)[number];

export interface FeedStatus {
  id: string;
  name: string;
  kind: 'rtmp' | 'whip' | 'rtsp' | 'srt';
  state: FeedState;
  /** When `state` began (ms since the epoch). */
  since: number;
  /** When the current live period began, or null when not live (uptime = now − liveSince). */
  liveSince: number | null;
  error: string | null;
  /** The feed's participant id in the command centre meeting. */
  participantId: string;
  video: { codec: string | null; width: number | null; height: number | null; transcoded: boolean } | null;
  /** What reaches the SFU, audio and video together (kbit/s). */
  bitrateKbps: number;
  /** Meetings the feed is shared into. */
  sharedInto: string[];
}

// ---- SIP legs: cascade to upper-level MCUs, room terminals ------------------------------------------

export const SIP_LEG_STATES = ['calling', 'connected', 'redialing', 'failed', 'ended'] as const;
/**
 * calling 呼叫中: INVITE sent, no answer yet; connected 已连接: media both ways; redialing 重拨中: an
 * upper-level leg dropped or was refused and is dialled again at `nextAttemptAt`; failed 失败: the
 * call did not go ahead (see `error`) and is not dialled again; ended 已挂断: hung up (shown briefly,
 * then dropped from the list).
 */
export type SipLegState = (typeof SIP_LEG_STATES)[number];

export interface SipLegStatus {
  /** Stable for the leg's whole life, across redials. */
  id: string;
  meetingId: string;
  /** in: the peer dialled us (会议号 or IVR); out: we dialled it. */
  direction: 'in' | 'out';
  /** mcu: an upper-level MCU (级联); terminal: a room terminal or any other SIP site. */
  kind: 'mcu' | 'terminal';
  /** The site's name: the cascade target's, the unit's, or the caller's display name. */
  name: string;
  /** The peer's SIP URI. */
  uri: string;
  /** The cascade target dialled (kind mcu, direction out). */
  targetId: string | null;
  /** The unit the leg is in the roster as, when it is one. */
  unitId: string | null;
  /** The leg's participant in the meeting while connected. */
  participantId: string | null;
  state: SipLegState;
  /** When `state` began (ms since the epoch). */
  since: number;
  /** When the current connection began, or null. */
  connectedSince: number | null;
  /** Why the last attempt failed or the call ended, in words. */
  error: string | null;
  /** Redials so far (0 on the first call). */
  attempt: number;
  /** When the next redial happens (state redialing), else null. */
  nextAttemptAt: number | null;
  /** The negotiated codecs, once connected, e.g. { codec: 'PCMA', clockRate: 8000 }. */
  audio: { codec: string; clockRate: number; srtp: boolean } | null;
  video: { codec: string; profileLevelId: string | null; srtp: boolean } | null;
  /** What the peer sends us and what we send it, audio and video together (kbit/s, last 2 s). */
  rxKbps: number;
  txKbps: number;
  /** Packets the peer sent that never arrived (RTP sequence gaps), % over the last 2 s. */
  lossPct: number;
}

/** What a chair may dial out to: a cascade target's id or a unit's room terminal. */
export type SipDialRequest = { targetId: string } | { unitId: string };

/** A cascade target as the chair console sees it (no credentials). */
export interface CascadeTargetSummary {
  id: string;
  name: string;
  uri: string;
}

/** A unit with a room terminal the chair can dial. */
export interface TerminalSummary {
  unitId: string;
  name: string;
  sipUri: string;
}

/** The meeting the command centre wall (/command) joins: every feed is a participant in it. */
export const COMMAND_CENTRE_MEETING_ID = 'command-centre';

export interface RecordingState {
  active: boolean;
  recordingId: string | null;
  /** ms since the epoch, when active. */
  since: number | null;
  /** Who started it (name), when active. */
  by: string | null;
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
  role: MeetingRole;
  /** What this participant may do (ROLE_ACTIONS of its role). */
  actions: MeetingAction[];
}

export interface JoinReply {
  protocolVersion: number;
  meetingId: string;
  self: ParticipantInfo;
  permissions: Permissions;
  routerRtpCapabilities: RtpCapabilities;
  /** Everyone else already in the meeting, with their producers. */
  participants: ParticipantInfo[];
  /** The roster snapshot includes every rosterBatch item up to this seq: skip those. */
  rosterSeq: number;
  /** The most recent chat messages (up to CHAT_HISTORY_LENGTH), oldest first. */
  chatHistory: ChatMessage[];
  /** Who is speaking now, if anyone (see the activeSpeaker event). */
  activeSpeakerId: string | null;
  /** The audio last-N set now (see audibleSpeakers). */
  audibleIds: string[];
  meeting: MeetingSummary;
  control: MeetingControlState;
  /** Roll-call status of every unit called so far (unitId → status). */
  rollCallResults: Record<string, RollCallStatus>;
  /** null for ad-hoc meetings (no invitation list). */
  directory: MeetingDirectory | null;
  /** Whether the meeting is being recorded (录制中). */
  recording: RecordingState;
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

export interface PlainTransportReply {
  id: string;
  /** Where the server listens: send RTP here (send), or expect it from here (recv). */
  ip: string;
  port: number;
  /** null with rtcp-mux. */
  rtcpPort: number | null;
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
  createPlainTransport: PlainTransportReply;
  connectPlainTransport: Record<string, never>;
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
  // chair console (see ROLE_ACTIONS for who may send which)
  muteAll: Record<string, never>;
  setAllowSelfUnmute: Record<string, never>;
  setFloorMode: Record<string, never>;
  setLocked: Record<string, never>;
  muteParticipant: Record<string, never>;
  requestUnmute: Record<string, never>;
  removeParticipant: Record<string, never>;
  endMeeting: Record<string, never>;
  grantFloor: Record<string, never>;
  denyFloor: Record<string, never>;
  revokeFloor: Record<string, never>;
  rollCall: { unitId: string };
  rollCallNext: { unitId: string | null };
  markRollCall: Record<string, never>;
  finishRollCall: Record<string, never>;
  setBroadcast: Record<string, never>;
  // feeds and recording
  listFeeds: { feeds: FeedStatus[] };
  shareFeed: Record<string, never>;
  unshareFeed: Record<string, never>;
  startRecording: { recordingId: string };
  stopRecording: Record<string, never>;
  // SIP legs (cascade, room terminals)
  listSipLegs: { legs: SipLegStatus[]; targets: CascadeTargetSummary[]; terminals: TerminalSummary[] };
  dialSip: { leg: SipLegStatus };
  hangupSip: Record<string, never>;
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
  /** Roster and producer changes since the last batch, in order (see BATCHED_EVENTS). */
  rosterBatch: { events: BatchedEvent[] };
  /** A chat message from someone else (your own comes back in the sendChat reply). */
  chatMessage: { message: ChatMessage };
  /**
   * The server's choice of main speaker changed (mediasoup ActiveSpeakerObserver over everyone's
   * microphone; it keeps the last speaker through silence). null: nobody has spoken yet.
   */
  activeSpeaker: { participantId: string | null };
  /**
   * Audio last-N: the participants heard most recently (up to AUDIO_LAST_N, most recent first),
   * unchanged through silence, updated at most every 300 ms. Receive their microphones, plus the
   * main venue's and floor holders'; pause the rest (keep recent ones paused for a gapless return).
   */
  audibleSpeakers: { participantIds: string[] };
  /** A consumer of yours was closed by the server (its producer or transport went away). */
  consumerClosed: { consumerId: string };
  /**
   * The server ended your session: SESSION_REPLACED (same identity joined elsewhere),
   * MEDIA_SERVER_RESTARTED (the meeting's media worker died; join again to continue).
   */
  sessionEnded: { reason: SessionEndReason; message: string };
  /** The chair-controlled state changed (any field); replaces the previous copy. */
  controlChanged: { control: MeetingControlState };
  /** A unit's roll-call status changed. */
  rollCallStatus: { unitId: string; status: RollCallStatus };
  /**
   * Whether anyone shows your video producer: wanted false asks you to stop sending its encodings
   * (RTCRtpSender encodings active: false — NOT pauseProducer, which would show your camera as
   * off to everyone) until wanted is true again. Sent VIDEO_IDLE_MS after the last viewer left,
   * and at once when someone wants it.
   */
  videoDemand: { producerId: string; wanted: boolean };
  /** Something the chair did to you, to show prominently (see ChairNoticeKind). */
  chairNotice: { kind: ChairNoticeKind; by: string };
  /** Every feed's status: sent to the command centre meeting on change and every 2 s while any is live. */
  feeds: { feeds: FeedStatus[] };
  /** The meeting's recording started or stopped (录制中); `reason` says why it stopped, if not by a person. */
  recording: { recording: RecordingState; reason?: 'disk-full' | 'failed' | 'stopped' };
  /** The meeting's SIP legs (to chair roles only): on every change and every 2 s while any is connected. */
  sipLegs: { legs: SipLegStatus[] };
}

/**
 * SESSION_REPLACED: the same identity joined elsewhere; MEDIA_SERVER_RESTARTED: the meeting's
 * media worker died (join again to continue); MEETING_ENDED: the chair or an operator ended the
 * meeting; REMOVED: the chair removed you.
 */
export type SessionEndReason = 'SESSION_REPLACED' | 'MEDIA_SERVER_RESTARTED' | 'MEETING_ENDED' | 'REMOVED';

/**
 * muted / cameraOff: the chair paused your microphone / camera (the producer is paused on the
 * server; producerUpdated follows); unmuteRequested: the chair asks you to unmute; floorGranted /
 * floorDenied / floorRevoked: answers to your raised hand; rollCalled: you are being called —
 * answer (your microphone may be opened).
 */
export type ChairNoticeKind =
  | 'muted'
  | 'cameraOff'
  | 'unmuteRequested'
  | 'floorGranted'
  | 'floorDenied'
  | 'floorRevoked'
  | 'rollCalled';
export type ServerEventName = keyof ServerEvents;

/**
 * Roster and producer changes are not sent one by one: they arrive in `rosterBatch` events, at
 * most 10 per second, each item carrying one of these events with its usual payload.
 */
export const BATCHED_EVENTS = [
  'participantJoined',
  'participantLeft',
  'participantUpdated',
  'producerAdded',
  'producerUpdated',
  'producerClosed',
] as const;
export type BatchedEventName = (typeof BATCHED_EVENTS)[number];

export type BatchedEvent = {
  [E in BatchedEventName]: {
    /** Meeting-wide order; items up to the join reply's rosterSeq are already in its snapshot. */
    seq: number;
    /** The participant the change came from (its own client skips it); null for the server. */
    origin: string | null;
    name: E;
    payload: ServerEvents[E];
  };
}[BatchedEventName];
