// The SIP side of the server: the user agent on SIP_HOST:SIP_PORT (UDP and TCP); dial-in —
// `sip:<会议号>@host` puts a room terminal (known by its unit's SIP URI) or any caller into that
// meeting as a participant with its own video and audio; and dial-out — a meeting joins an upper-level
// MCU as one site (redialled when it drops) or calls a unit's room terminal. Every leg's state is
// in the SipLegBook the chair console and the API read.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  answerOffer,
  createOffer,
  dialInTarget,
  NoCommonCodecError,
  parseNameAddr,
  readAnswer,
  SipUserAgent,
  type AudioCodecName,
  type Registration,
  type IncomingCall,
  type InviteOptions,
  type LocalMedia,
  type MediaPorts,
  type Negotiation,
  type SipCall,
  type SipProtocol,
  type SipUri,
  VideoSwitchPool,
} from '@cityconf/cascade';
import type { ListenIp, Meeting, Sfu } from '@cityconf/sfu';
import type { SipRegistrarConfig, SipTlsConfig } from '../config.js';
import { ProtocolError } from '../errors.js';
import type { MediaMemberIdentity } from '../governance/MediaMember.js';
import { meetingRoleFor } from '../governance/roles.js';
import type { Logger } from '../log.js';
import type { MeetingControlState, SipDialRequest, SipLegStatus } from '../protocol.js';
import type { Roster } from '../Roster.js';
import type { MeetingRecord, Store, Unit } from '../store/types.js';
import { answerWithIvr } from './IvrDialIn.js';
import { SipDialOut, type DialPlan, type PlaceCall } from './SipDialOut.js';
import { SipLeg, type SipLegEnding } from './SipLeg.js';
import { SipLegBook, type SipLegEntry } from './SipLegBook.js';
import type { SipLegControl, SipLegControlEvents } from './SipLegControl.js';

export interface SipGatewayOptions {
  host: string;
  /** 0 takes a free port (tests). */
  port: number;
  protocols: SipProtocol[];
  /** The address our SDP gives for media (default: host, or 127.0.0.1 when host is 0.0.0.0). */
  mediaAddress?: string;
  /** REGISTER with this registrar and keep the binding fresh. */
  registrar?: SipRegistrarConfig;
  /** SIP over TLS: listen on `port` (with cert and key), and call sips: / transport=tls peers. */
  tls?: SipTlsConfig;
}

/** The registration with the SIP platform, for /healthz. */
export interface SipRegistrationStatus {
  registrar: string;
  username: string;
  state: 'registering' | 'registered' | 'failed';
  /** When `state` began (ms since the epoch). */
  since: number;
  /** The binding's lifetime the registrar granted (s), while registered. */
  expires: number | null;
  error: string | null;
}

export interface SipGatewayDeps {
  store: Store;
  sfu: Sfu;
  roster: Roster;
  listenIp: ListenIp;
  logger: Logger;
}

/** The roster group of callers that are not units in the directory. */
const GUEST_GROUP = 'SIP 终端';

/** The roster group of upper-level MCUs our meetings dial. */
const CASCADE_GROUP = '上级会议';

/** How a leg joins its meeting: answer the INVITE, or place our own (the call and what was agreed). */
type Establish = (local: LocalMedia, signal: AbortSignal) => Promise<{ call: SipCall; negotiation: Negotiation }>;

/** Our side of a dialled call (codec preferences, bandwidth) on top of the leg's ports. */
interface LocalPreferences {
  audioCodecs?: AudioCodecName[];
  video?: boolean;
  bandwidthKbps?: number;
}

export class SipGateway extends EventEmitter<SipLegControlEvents> implements SipLegControl {
  /** Connected legs by participant id. */
  private readonly active = new Map<string, SipLeg>();
  /** Each leg's meeting and status entry (and its dialler when we dialled it). */
  private readonly legInfo = new WeakMap<SipLeg, { meetingId: string; entry: SipLegEntry }>();
  private readonly dialOuts = new Map<string, SipDialOut>();
  /** Each meeting's video encoders, shared by its SIP legs. */
  private readonly videoPools = new Map<Meeting, VideoSwitchPool>();
  private readonly book = new SipLegBook();
  private closing = false;
  private registrationStatus?: SipRegistrationStatus;
  private registration?: Registration;

  private constructor(
    private readonly ua: SipUserAgent,
    private readonly options: SipGatewayOptions,
    private readonly deps: SipGatewayDeps,
  ) {
    super();
    ua.onInvite((incoming) => this.dialIn(incoming));
    this.book.on('legs', (meetingId) => this.emit('legs', meetingId));
    if (options.registrar) this.register(options.registrar);
  }

  static async start(options: SipGatewayOptions, deps: SipGatewayDeps): Promise<SipGateway> {
    const { tls } = options;
    const ua = await SipUserAgent.start({
      transports: [
        ...options.protocols.map((protocol) => ({ protocol, host: options.host, port: options.port })),
        ...(tls && tls.port >= 0 ? [{ protocol: 'tls' as const, host: options.host, port: tls.port }] : []),
      ],
      ...(tls
        ? { tls: { ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}), ...(tls.ca ? { ca: tls.ca } : {}), verifyPeer: tls.verifyPeer } }
        : {}),
      logger: deps.logger,
      userAgent: 'cityconf',
      ...(options.host === '0.0.0.0' && options.mediaAddress ? { advertisedHost: options.mediaAddress } : {}),
    });
    return new SipGateway(ua, options, deps);
  }

  /** Where SIP listens, per protocol (the port is the bound one). */
  local(protocol: SipProtocol): { host: string; port: number } {
    return this.ua.local(protocol);
  }

  get legCount(): number {
    return this.active.size;
  }

  /** The registration with the SIP platform (SIP_REGISTRAR), if one is configured. */
  get registrationState(): SipRegistrationStatus | null {
    return this.registrationStatus ? { ...this.registrationStatus } : null;
  }

  legs(meetingId: string): SipLegStatus[] {
    return this.book.list(meetingId);
  }

  async dial(meetingId: string, request: SipDialRequest, by: string): Promise<SipLegStatus> {
    const { store, logger } = this.deps;
    const record = store.meetings.get(meetingId);
    if (!record) throw new ProtocolError('NOT_FOUND', `no meeting ${meetingId}`);
    if (record.state === 'ended') throw new ProtocolError('MEETING_ENDED', `meeting ${record.number} has ended: it dials no one`);
    const site = 'targetId' in request ? this.cascadeSite(request.targetId) : this.terminalSite(record, request.unitId);
    const busy = this.book
      .active(meetingId)
      .find(({ status }) => (site.targetId !== null && status.targetId === site.targetId) || (site.unitId !== null && status.unitId === site.unitId));
    if (busy) throw new ProtocolError('INVALID_STATE', `${site.name} already has a SIP leg in this meeting (${busy.status.state}): hang it up first`);
    if (site.unitId && this.deps.roster.get(meetingId)?.memberOfUnit(site.unitId)) {
      throw new ProtocolError('INVALID_STATE', `${site.name} is already in the meeting`);
    }
    const entry = this.book.add({
      id: `out-${randomUUID()}`,
      meetingId,
      direction: 'out',
      kind: site.kind,
      name: site.name,
      uri: site.uri,
      targetId: site.targetId,
      unitId: site.unitId,
    });
    const dialLogger = logger.child({ meetingId, sipLeg: entry.status.id, uri: site.uri });
    const place: PlaceCall = async (signal) => {
      const current = store.meetings.get(meetingId);
      if (!current || current.state === 'ended') throw new ProtocolError('MEETING_ENDED', 'the meeting has ended');
      return this.join(current, site.identity, entry, site.preferences, async (local, abortSignal) => {
        const offer = createOffer(local);
        const call = await this.ua.invite(site.uri, offer.sdp, { ...site.invite, signal: abortSignal, sessionExpires: SESSION_EXPIRES_S });
        try {
          return { call, negotiation: readAnswer(offer, call.remoteSdp ?? '') };
        } catch (error) {
          void call.hangup().catch(() => undefined);
          throw error;
        }
      }, signal);
    };
    const dialOut = new SipDialOut(entry, site.plan, place, this.book, dialLogger);
    this.dialOuts.set(entry.status.id, dialOut);
    dialLogger.info({ name: site.name, kind: site.kind, by }, 'dialling out');
    dialOut.start();
    return { ...entry.status };
  }

  hangup(meetingId: string, legId: string): boolean {
    const entry = this.book.get(meetingId, legId);
    if (!entry) return false;
    const dialOut = this.dialOuts.get(legId);
    if (dialOut) {
      dialOut.hangup();
      this.dialOuts.delete(legId);
    } else if (entry.status.participantId) {
      this.active.get(entry.status.participantId)?.end('hung up by the chair', true, 'local');
    }
    if (entry.status.state === 'failed' || entry.status.state === 'ended') this.book.remove(entry);
    return true;
  }

  /** The chair's view of a meeting changed: its SIP legs' pictures follow. */
  controlChanged(meetingId: string, control: MeetingControlState): void {
    for (const leg of this.active.values()) if (this.legInfo.get(leg)?.meetingId === meetingId) leg.controlChanged(control);
  }

  async close(): Promise<void> {
    this.closing = true;
    const legs = [...this.active.values()];
    for (const dialOut of this.dialOuts.values()) dialOut.hangup('the server is stopping');
    this.dialOuts.clear();
    for (const leg of legs) leg.end('the server is stopping');
    await Promise.all(legs.map((leg) => leg.stopped));
    await Promise.all([...this.videoPools.values()].map((pool) => pool.close()));
    this.book.close();
    await this.registration?.close(); // unregisters
    await this.ua.close();
  }

  /** Registers with the platform's registrar; the binding is refreshed and failures retried by Registration. */
  private register(registrar: SipRegistrarConfig): void {
    const logger = this.deps.logger.child({ registrar: registrar.uri });
    const status: SipRegistrationStatus = { registrar: registrar.uri, username: registrar.username, state: 'registering', since: Date.now(), expires: null, error: null };
    this.registrationStatus = status;
    const registration = this.ua.register({ registrar: registrar.uri, username: registrar.username, password: registrar.password, expires: registrar.expires });
    this.registration = registration;
    registration.on('registered', (expires) => {
      if (status.state !== 'registered') logger.info({ expires }, 'registered with the SIP registrar');
      Object.assign(status, { state: 'registered', since: status.state === 'registered' ? status.since : Date.now(), expires, error: null });
    });
    registration.on('failed', (error) => {
      logger.warn({ err: error }, 'registration with the SIP registrar failed: retrying');
      Object.assign(status, { state: 'failed', since: Date.now(), expires: null, error: error.message });
    });
  }

  /** An INVITE from a terminal or MCU: into the meeting its number names, or refused with why. */
  private async dialIn(incoming: IncomingCall): Promise<void> {
    const { store, logger } = this.deps;
    const target = dialInTarget(incoming.request.uri.user);
    if (target.kind !== 'meeting') {
      await this.dialInByIvr(incoming);
      return;
    }
    const record = store.meetings.getByNumber(target.number);
    if (!record) {
      incoming.reject(404, 'Not Found', [['Warning', `399 cityconf "no meeting ${target.number}"`]]);
      return;
    }
    if (record.state === 'ended') {
      incoming.reject(480, 'Temporarily Unavailable', [['Warning', `399 cityconf "meeting ${target.number} has ended"`]]);
      return;
    }
    const caller = callerOf(incoming);
    const identity = this.identify(record, caller);
    if (!identity) {
      incoming.reject(403, 'Forbidden', [['Warning', `399 cityconf "this terminal is not invited to meeting ${target.number}"`]]);
      return;
    }
    const entry = this.dialInEntry(record, identity, caller);
    try {
      await this.join(record, identity, entry, {}, async (local) => {
        const negotiation = answerOffer(incoming.offer ?? '', local);
        if (incoming.signal.aborted) throw new Error('the caller cancelled');
        return { call: incoming.accept(negotiation.sdp), negotiation };
      });
      logger.info({ meetingId: record.id, caller: caller.uri, name: identity.name }, 'sip dial-in joined');
    } catch (error) {
      entry.moved('failed', Date.now(), { error: error instanceof Error ? error.message : String(error) });
      this.book.changed(entry);
      if (incoming.answered) return;
      if (error instanceof NoCommonCodecError) {
        incoming.reject(488, 'Not Acceptable Here', [['Warning', `399 cityconf "${error.warning}"`]]);
      } else if (error instanceof ProtocolError && error.code === 'MEETING_LOCKED') {
        incoming.reject(403, 'Forbidden', [['Warning', `399 cityconf "the chair has locked meeting ${target.number}"`]]);
      } else if (!incoming.signal.aborted) {
        logger.error({ err: error, meetingId: record.id }, 'sip dial-in failed');
        incoming.reject(500, 'Server Internal Error');
      }
    }
  }

  /**
   * A caller that named no meeting (`sip:ivr@host`, any other user): the IVR answers and asks for
   * the meeting number (and PIN), then the answered call joins that meeting on the IVR's ports, as a
   * direct dial-in would; what would be refused there is hung up on here.
   */
  private async dialInByIvr(incoming: IncomingCall): Promise<void> {
    const { store, logger } = this.deps;
    let answered: Awaited<ReturnType<typeof answerWithIvr>>;
    try {
      answered = await answerWithIvr(incoming, { store, mediaAddress: this.mediaAddress(), logger });
    } catch (error) {
      if (error instanceof NoCommonCodecError && !incoming.answered) {
        incoming.reject(488, 'Not Acceptable Here', [['Warning', `399 cityconf "${error.warning}"`]]);
        return;
      }
      logger.error({ err: error, callId: incoming.callId }, 'sip ivr failed');
      if (!incoming.answered && !incoming.signal.aborted) incoming.reject(500, 'Server Internal Error');
      return;
    }
    if (!answered) return;
    const { record, call, negotiation, ports } = answered;
    const caller = callerOf(incoming);
    const hangUp = (why: string, error?: unknown): void => {
      logger.info({ meetingId: record.id, caller: caller.uri, why, ...(error ? { err: error } : {}) }, 'sip ivr dial-in hung up');
      ports.close();
      void call.hangup().catch(() => undefined);
    };
    const identity = this.identify(record, caller);
    if (!identity) {
      hangUp(`this terminal is not invited to meeting ${record.number}`);
      return;
    }
    const entry = this.dialInEntry(record, identity, caller);
    try {
      await this.join(record, identity, entry, {}, async () => ({ call, negotiation }), undefined, ports);
      logger.info({ meetingId: record.id, caller: caller.uri, name: identity.name }, 'sip ivr dial-in joined');
    } catch (error) {
      entry.moved('failed', Date.now(), { error: error instanceof Error ? error.message : String(error) });
      this.book.changed(entry);
      hangUp('joining failed', error);
    }
  }

  /** The status entry of a leg that dialled in. */
  private dialInEntry(record: MeetingRecord, identity: MediaMemberIdentity, caller: { uri: string }): SipLegEntry {
    return this.book.add({
      id: `in-${randomUUID()}`,
      meetingId: record.id,
      direction: 'in',
      kind: 'terminal',
      name: identity.name,
      uri: `sip:${caller.uri}`,
      targetId: null,
      unitId: identity.unitId,
    });
  }

  /**
   * Puts a SIP leg into the meeting: the member admitted, the leg's participant and ports made, the
   * call established (answered or placed) on those ports, media started. On failure everything made
   * here is undone (and an established call hung up) before the error is rethrown. `ports`: the
   * ones an answered call already uses (the IVR's), taken over by the leg.
   */
  private async join(
    record: MeetingRecord,
    identity: MediaMemberIdentity,
    entry: SipLegEntry,
    preferences: LocalPreferences,
    establish: Establish,
    signal: AbortSignal = new AbortController().signal,
    ports?: MediaPorts,
  ): Promise<SipLeg> {
    const live = this.deps.roster.enter(record.id);
    let meeting: Meeting | undefined;
    let leg: SipLeg | undefined;
    try {
      live.admit(identity.unitId, identity.role);
      meeting = await this.deps.sfu.openMeeting(record.id);
      const opened = meeting;
      const prepared = await SipLeg.prepare({
        meeting: opened,
        live,
        listenIp: this.deps.listenIp,
        logger: this.deps.logger,
        leave: (ended, ending) => this.forget(ended, ending, opened),
        videoSwitches: this.videoSwitchesOf(opened),
        ...(ports ? { ports } : {}),
      });
      leg = prepared.leg;
      this.legInfo.set(leg, { meetingId: record.id, entry });
      this.active.set(leg.id, leg);
      const local: LocalMedia = {
        address: this.mediaAddress(),
        audio: { port: prepared.ports.audioPort, ...(preferences.audioCodecs ? { codecs: preferences.audioCodecs } : {}) },
        ...(preferences.video === false ? {} : { video: { port: prepared.ports.videoPort } }),
        ...(preferences.bandwidthKbps ? { maxBandwidthKbps: preferences.bandwidthKbps } : {}),
      };
      const { call, negotiation } = await establish(local, signal);
      if (signal.aborted || this.closing) {
        void call.hangup().catch(() => undefined);
        throw signal.reason instanceof Error ? signal.reason : new Error('the call was called off');
      }
      await leg.connect(call, negotiation, identity, local);
      if (leg.isEnded) throw new Error('the call ended while its media started');
      entry.connected(leg.id, negotiation, () => leg!.counters(), Date.now());
      this.book.changed(entry);
      return leg;
    } catch (error) {
      leg?.end(error instanceof Error ? error.message : String(error));
      if (meeting) this.releaseVideoSwitches(meeting);
      if (meeting && meeting.participants.size === 0) meeting.close();
      this.deps.roster.releaseIfEmpty(live);
      throw error;
    }
  }

  /** A configured upper-level MCU as the site dialled. */
  private cascadeSite(targetId: string): DialSite {
    const target = this.deps.store.cascadeTargets.get(targetId);
    if (!target) throw new ProtocolError('NOT_FOUND', `no cascade target ${targetId}: an operator configures them under /api/cascade/targets`);
    return {
      kind: 'mcu',
      name: target.name,
      uri: target.uri,
      targetId: target.id,
      unitId: null,
      identity: { kind: 'unit', unitId: `cascade:${target.id}`, role: 'participant', name: target.name, attributes: { unit: CASCADE_GROUP } },
      invite: {
        ...(target.username && target.password !== null ? { credentials: { username: target.username, password: target.password } } : {}),
        ...(target.displayName ? { displayName: target.displayName } : {}),
      },
      preferences: { audioCodecs: target.audioCodecs, video: target.video, bandwidthKbps: target.bandwidthKbps },
      plan: { dtmf: target.dtmf, dtmfDelayMs: target.dtmfDelayMs, redial: target.redial },
    };
  }

  /** A unit's room terminal (its SIP URI in the directory) as the site dialled. */
  private terminalSite(record: MeetingRecord, unitId: string): DialSite {
    const { store } = this.deps;
    const unit = store.units.get(unitId);
    if (!unit) throw new ProtocolError('NOT_FOUND', `no unit ${unitId}`);
    if (!unit.sipUri) throw new ProtocolError('BAD_REQUEST', `unit ${unit.name} has no room terminal: set its sipUri in the unit directory`);
    const role = record.invitedUnitIds.length === 0 ? 'terminal' : meetingRoleFor(record, { role: 'terminal', unitId: unit.id });
    if (!role) throw new ProtocolError('FORBIDDEN', `unit ${unit.name} is not invited to this meeting: invite it first`);
    return {
      kind: 'terminal',
      name: unit.name,
      uri: unit.sipUri,
      targetId: null,
      unitId: unit.id,
      identity: { kind: 'unit', unitId: unit.id, role, name: unit.name, attributes: { unit: unitPath(unit, store) } },
      invite: { displayName: `会议 ${record.number}` },
      preferences: {},
      plan: { dtmf: null, dtmfDelayMs: 0, redial: false },
    };
  }

  /** The caller as a member: its unit when its SIP URI is a unit's terminal, else a guest site. */
  private identify(record: MeetingRecord, caller: { uri: string; user: string; displayName: string | null }): MediaMemberIdentity | null {
    const unit = this.deps.store.units.list().find((candidate) => candidate.sipUri && sameSipAddress(candidate.sipUri, caller.uri));
    if (unit) {
      const role = meetingRoleFor(record, { role: 'terminal', unitId: unit.id });
      if (!role) return null;
      return { kind: 'unit', unitId: unit.id, role, name: unit.name, attributes: { unit: unitPath(unit, this.deps.store) } };
    }
    if (record.invitedUnitIds.length > 0) return null; // a scheduled meeting takes its invited units only
    const name = caller.displayName || caller.user || caller.uri;
    return { kind: 'unit', unitId: `sip:${caller.user}`, role: 'terminal', name, attributes: { unit: GUEST_GROUP } };
  }

  private mediaAddress(): string {
    if (this.options.mediaAddress) return this.options.mediaAddress;
    return this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host;
  }

  /** The meeting's shared video encoders for its SIP legs (made with its first leg). */
  private videoSwitchesOf(meeting: Meeting): VideoSwitchPool {
    let pool = this.videoPools.get(meeting);
    if (!pool) {
      pool = new VideoSwitchPool({
        jobId: `sip-${meeting.id}`,
        router: meeting.router,
        listenIp: this.deps.listenIp,
        pipeProducer: (producer, router) => meeting.pipeProducer(producer, router),
        size: SIP_VIDEO_SIZE,
        logger: this.deps.logger.child({ meetingId: meeting.id }),
      });
      this.videoPools.set(meeting, pool);
    }
    return pool;
  }

  /** The meeting's last SIP leg left: its encoders go. */
  private releaseVideoSwitches(meeting: Meeting): void {
    const pool = this.videoPools.get(meeting);
    if (!pool || [...this.active.values()].some((leg) => this.legInfo.get(leg)?.meetingId === meeting.id)) return;
    this.videoPools.delete(meeting);
    void pool.close();
  }

  private forget(leg: SipLeg, ending: SipLegEnding, meeting: Meeting): void {
    this.active.delete(leg.id);
    this.releaseVideoSwitches(meeting);
    const info = this.legInfo.get(leg);
    if (info) {
      this.deps.roster.remove(info.meetingId, leg.id);
      const dialOut = this.dialOuts.get(info.entry.status.id);
      if (dialOut) {
        dialOut.legEnded(leg, ending);
      } else if (info.entry.status.participantId === leg.id) {
        info.entry.moved('ended', Date.now(), { error: ending.cause === 'peer' || ending.cause === 'media' ? ending.why : null });
        this.book.changed(info.entry);
      }
    }
    if (meeting.participants.size === 0) meeting.close();
  }
}

/** Everything dialling one site takes. */
interface DialSite {
  kind: 'mcu' | 'terminal';
  name: string;
  uri: string;
  targetId: string | null;
  unitId: string | null;
  identity: MediaMemberIdentity;
  invite: Pick<InviteOptions, 'credentials' | 'displayName'>;
  preferences: LocalPreferences;
  plan: DialPlan;
}

/** The picture SIP peers get: 720p, what H.264 level 3.1 (the usual terminal's) allows at 30 fps. */
const SIP_VIDEO_SIZE = { width: 1280, height: 720 };

/** RFC 4028 interval we ask of the peers we call (s): an MCU that drops us is noticed. */
const SESSION_EXPIRES_S = 1800;

function callerOf(incoming: IncomingCall): { uri: string; user: string; displayName: string | null } {
  const from = parseNameAddr(incoming.request.headers.get('From') ?? '', 'From');
  const uri: SipUri = from.uri;
  return { uri: `${uri.user ?? ''}@${uri.host}`, user: uri.user ?? '', displayName: from.displayName ?? null };
}

/** user@host of a SIP URI, the way units' terminal URIs are written (`sip:town-b@10.0.0.5`). */
function sameSipAddress(unitUri: string, callerAddress: string): boolean {
  const match = /^sips?:([^@;>]+@[^:;>]+)/i.exec(unitUri.trim());
  return !!match && match[1]!.toLowerCase() === callerAddress.toLowerCase();
}

/** The unit's place in the tree, '/'-separated, as tokens' `unit` attribute says it. */
function unitPath(unit: Unit, store: Store): string {
  const names: string[] = [];
  let current: Unit | undefined = unit;
  for (let depth = 0; current && depth < 8; depth++) {
    names.unshift(current.name);
    current = current.parentId ? store.units.get(current.parentId) : undefined;
  }
  return names.join('/');
}
