// The persistent records of the system and the repository interface that stores them. The server
// only talks to `Store`; the embedded SQLite implementation (./sqlite/) is the default, and a
// server database can replace it by implementing the same interface.
import type { ChatMessage, FloorMode, RollCallResult, UnitLevel } from '../protocol.js';

export { FLOOR_MODES, ROLL_CALL_RESULTS, UNIT_LEVELS } from '../protocol.js';
export type { FloorMode, RollCallResult, UnitLevel } from '../protocol.js';

// ---- units (单位) ------------------------------------------------------------------------------

/** Unit ids appear in tokens (as the participant identity) and URLs. */
export const UNIT_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export interface Unit {
  id: string;
  name: string;
  level: UnitLevel;
  /** null only for a root (the city, or a department directly under nobody). */
  parentId: string | null;
  /** Order among siblings (ascending; ties by name). */
  sortOrder: number;
  /** The unit's meeting-room terminal, if it has one (SIP URI, dialled out to by the cascade). */
  sipUri: string | null;
}

// ---- accounts ---------------------------------------------------------------------------------

export const ACCOUNT_ROLES = ['operator', 'unit', 'terminal'] as const;
/**
 * operator 管理员: administers everything and can chair any meeting; unit: an official of one
 * unit, joins the meetings the unit is invited to; terminal: a meeting-room terminal of one unit.
 */
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

export interface Account {
  username: string;
  displayName: string;
  role: AccountRole;
  /** Required for unit and terminal accounts; optional for operators. */
  unitId: string | null;
  /** scrypt hash, `scrypt$<salt b64>$<hash b64>`; never leaves the server. */
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
}

// ---- meetings ---------------------------------------------------------------------------------

export const MEETING_STATES = ['scheduled', 'live', 'ended'] as const;
export type MeetingState = (typeof MEETING_STATES)[number];

/** Chair settings that survive a restart (the live floor/roll-call state does not need to). */
export interface MeetingSettings {
  floorMode: FloorMode;
  /** After "mute all": may participants unmute themselves (in free floor mode)? */
  allowSelfUnmute: boolean;
  /** A locked meeting admits no new participant except the chair, co-chairs and operators. */
  locked: boolean;
  /** Start recording as soon as the meeting runs (its first participant joins). */
  autoRecord: boolean;
}

export interface MeetingRecord {
  /** URL-safe id, as in /m/<id> and the token's room. */
  id: string;
  /** 会议号: 8 digits, unique, typed on terminals and phones. */
  number: number;
  title: string;
  /** Scheduled start/end (ms since the epoch); null for ad-hoc meetings. */
  startsAt: number | null;
  endsAt: number | null;
  chairUnitId: string | null;
  coChairUnitIds: string[];
  /** 主会场: shown large to everyone while nothing is broadcast. */
  mainVenueUnitId: string | null;
  /** Invited units, in roll-call order (resolved from subtrees and lists when scheduled). */
  invitedUnitIds: string[];
  /** 列席 units: receive only. */
  observerUnitIds: string[];
  /** Optional PIN (4–8 digits) for dial-in and uninvited joins. */
  pin: string | null;
  state: MeetingState;
  /** Created implicitly by the first join, or by the API without a schedule. */
  adHoc: boolean;
  settings: MeetingSettings;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export interface MeetingQuery {
  state?: MeetingState;
  /** Meetings that invite this unit (or that it chairs, co-chairs or observes). */
  unitId?: string;
  /** Scheduled start within [from, to). */
  from?: number;
  to?: number;
}

// ---- attendance (签到) ------------------------------------------------------------------------

/** One stretch of a participant being in a meeting. */
export interface PresenceRecord {
  id: number;
  meetingId: string;
  /** Unit id when the participant is a unit; otherwise the token identity. */
  unitId: string;
  name: string;
  joinedAt: number;
  /** null while still in the meeting (or if the server died: see closeOpenPresences). */
  leftAt: number | null;
}

export interface RollCallRecord {
  meetingId: string;
  unitId: string;
  calledAt: number;
  result: RollCallResult | null;
  markedAt: number | null;
  /** Identity of the chair who marked it. */
  markedBy: string | null;
}

// ---- webhooks ---------------------------------------------------------------------------------

export interface WebhookDelivery {
  id: number;
  /** LiveKit webhook event id (EV_…). */
  eventId: string;
  event: string;
  url: string;
  /** Attempts so far (1 after the first try). */
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  /** HTTP status of the last attempt, or null if it never got one (connection refused, timeout). */
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

// ---- repositories -----------------------------------------------------------------------------

export interface UnitRepository {
  list(): Unit[];
  get(id: string): Unit | undefined;
  /** Inserts or updates every unit in one transaction: all or nothing. */
  upsertMany(units: Unit[]): void;
  /**
   * Replaces the whole directory with `units` in one transaction. Units no longer present are
   * deleted (meetings keep their ids; they show as unknown units).
   */
  replaceAll(units: Unit[]): void;
  /** Deletes one unit; throws if it has children. Returns false if it did not exist. */
  delete(id: string): boolean;
  count(): number;
}

export interface AccountRepository {
  list(): Account[];
  get(username: string): Account | undefined;
  /** Throws StoreConflictError if the username exists. */
  create(account: Account): void;
  update(username: string, changes: Partial<Omit<Account, 'username' | 'createdAt'>>): Account | undefined;
  delete(username: string): boolean;
}

export interface MeetingRepository {
  list(query?: MeetingQuery): MeetingRecord[];
  get(id: string): MeetingRecord | undefined;
  getByNumber(number: number): MeetingRecord | undefined;
  /** Throws StoreConflictError if the id or the number is taken. */
  create(meeting: MeetingRecord): void;
  update(id: string, changes: Partial<Omit<MeetingRecord, 'id' | 'createdAt'>>): MeetingRecord | undefined;
  delete(id: string): boolean;
}

export interface AttendanceRepository {
  /** Records a join; returns the presence id to close on leave. */
  openPresence(meetingId: string, unitId: string, name: string, joinedAt: number): number;
  closePresence(presenceId: number, leftAt: number): void;
  /**
   * Closes presences left open by a server that stopped without closing them (crash, kill -9),
   * at `leftAt`; called at startup. Returns how many it closed.
   */
  closeOpenPresences(leftAt: number): number;
  presences(meetingId: string): PresenceRecord[];
  /** Upserts the roll call of one unit in one meeting (latest call and mark win). */
  saveRollCall(record: RollCallRecord): void;
  rollCalls(meetingId: string): RollCallRecord[];
}

export interface ChatRepository {
  append(meetingId: string, message: ChatMessage): void;
  /** The most recent `limit` messages, oldest first. */
  recent(meetingId: string, limit: number): ChatMessage[];
  all(meetingId: string): ChatMessage[];
}

export interface WebhookDeliveryRepository {
  create(delivery: Omit<WebhookDelivery, 'id'>): WebhookDelivery;
  update(id: number, changes: Partial<Omit<WebhookDelivery, 'id' | 'eventId' | 'event' | 'url' | 'createdAt'>>): void;
  /** Newest first. */
  list(limit: number): WebhookDelivery[];
}

// ---- feeds (drone and camera video) -------------------------------------------------------------

export const FEED_KINDS = ['rtmp', 'whip', 'rtsp', 'srt'] as const;
/**
 * rtmp: pushed to the server's RTMP port with the feed's stream key (drone controllers); whip:
 * published over WHIP with the key as bearer token (browsers, OBS); rtsp / srt: pulled from `url`
 * (docks, fixed cameras).
 */
export type FeedKind = (typeof FEED_KINDS)[number];

export interface FeedRecord {
  id: string;
  /** What the wall shows, e.g. "1号无人机（城东）". */
  name: string;
  kind: FeedKind;
  /** The secret a pushing publisher authenticates with (rtmp, whip); null for pulled feeds. */
  streamKey: string | null;
  /** Where a pulled feed is read from (rtsp, srt); null for pushed feeds. */
  url: string | null;
  /** Re-encode the video even when it could be forwarded. */
  transcode: boolean;
  createdBy: string;
  createdAt: number;
}

export interface FeedRepository {
  list(): FeedRecord[];
  get(id: string): FeedRecord | undefined;
  getByStreamKey(streamKey: string): FeedRecord | undefined;
  /** Throws StoreConflictError if the id or the stream key is taken. */
  create(feed: FeedRecord): void;
  update(id: string, changes: Partial<Omit<FeedRecord, 'id' | 'createdAt' | 'createdBy'>>): FeedRecord | undefined;
  delete(id: string): boolean;
}

// ---- cascade targets (upper-level MCUs) --------------------------------------------------------------

export const CASCADE_AUDIO_CODECS = ['opus', 'G722', 'PCMA', 'PCMU'] as const;

/** An upper-level MCU our meetings can join as a site (级联上级), configured by an operator. */
export interface CascadeTargetRecord {
  id: string;
  /** What the chair sees, e.g. "省视频会议平台". */
  name: string;
  /** The MCU's SIP URI, e.g. `sip:9000@10.1.1.1;transport=tcp`. */
  uri: string;
  /** Digest credentials when the MCU (or its proxy) challenges; null: none. */
  username: string | null;
  password: string | null;
  /** Our From display name towards the MCU (the site name the MCU shows), e.g. "某市视频会议". */
  displayName: string | null;
  /** b=AS: the video bit rate we ask for and send at most (kbit/s). */
  bandwidthKbps: number;
  /** Audio codecs in our order of preference. */
  audioCodecs: (typeof CASCADE_AUDIO_CODECS)[number][];
  /** H.264 video both ways (false: audio only). */
  video: boolean;
  /** Keys sent as DTMF after the call connects (the MCU's conference id, PIN, '#'); ',' waits 1 s. */
  dtmf: string | null;
  /** How long after the connect the DTMF keys are sent (ms). */
  dtmfDelayMs: number;
  /** Redial with backoff when the leg drops or the MCU refuses. */
  redial: boolean;
  createdBy: string;
  createdAt: number;
}

export interface CascadeTargetRepository {
  list(): CascadeTargetRecord[];
  get(id: string): CascadeTargetRecord | undefined;
  /** Throws StoreConflictError if the id is taken. */
  create(target: CascadeTargetRecord): void;
  update(id: string, changes: Partial<Omit<CascadeTargetRecord, 'id' | 'createdAt' | 'createdBy'>>): CascadeTargetRecord | undefined;
  delete(id: string): boolean;
}

export interface Store {
  units: UnitRepository;
  feeds: FeedRepository;
  cascadeTargets: CascadeTargetRepository;
  accounts: AccountRepository;
  meetings: MeetingRepository;
  attendance: AttendanceRepository;
  chat: ChatRepository;
  webhookDeliveries: WebhookDeliveryRepository;
  /** Runs `work` atomically across repositories. */
  transaction<T>(work: () => T): T;
  close(): void;
}

/** A unique key (username, meeting id or number) is taken. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}
