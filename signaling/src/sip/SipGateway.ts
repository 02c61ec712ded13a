// The SIP side of the server: the user agent on SIP_HOST:SIP_PORT (UDP and TCP), and dial-in —
// `sip:<会议号>@host` puts a room terminal (known by its unit's SIP URI) or any caller into that
// meeting as a participant with its own video and audio.
import {
  answerOffer,
  dialInTarget,
  NoCommonCodecError,
  parseNameAddr,
  SipUserAgent,
  type IncomingCall,
  type LocalMedia,
  type SipProtocol,
  type SipUri,
} from '@cityconf/cascade';
import type { ListenIp, Meeting, Sfu } from '@cityconf/sfu';
import { ProtocolError } from '../errors.js';
import type { MediaMemberIdentity } from '../governance/MediaMember.js';
import { meetingRoleFor } from '../governance/roles.js';
import type { Logger } from '../log.js';
import type { MeetingControlState } from '../protocol.js';
import type { Roster } from '../Roster.js';
import type { MeetingRecord, Store, Unit } from '../store/types.js';
import { SipLeg } from './SipLeg.js';

export interface SipGatewayOptions {
  host: string;
  /** 0 takes a free port (tests). */
  port: number;
  protocols: SipProtocol[];
  /** The address our SDP gives for media (default: host, or 127.0.0.1 when host is 0.0.0.0). */
  mediaAddress?: string;
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

export class SipGateway {
  private readonly legs = new Map<string, SipLeg>();

  private constructor(
    private readonly ua: SipUserAgent,
    private readonly options: SipGatewayOptions,
    private readonly deps: SipGatewayDeps,
  ) {
    ua.onInvite((incoming) => this.dialIn(incoming));
  }

  static async start(options: SipGatewayOptions, deps: SipGatewayDeps): Promise<SipGateway> {
    const ua = await SipUserAgent.start({
      transports: options.protocols.map((protocol) => ({ protocol, host: options.host, port: options.port })),
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
    return this.legs.size;
  }

  /** The chair's view of a meeting changed: its SIP legs' pictures follow. */
  controlChanged(meetingId: string, control: MeetingControlState): void {
    for (const leg of this.legs.values()) if (leg.participant && this.meetingOf(leg) === meetingId) leg.controlChanged(control);
  }

  async close(): Promise<void> {
    for (const leg of [...this.legs.values()]) leg.end('the server is stopping');
    await this.ua.close();
  }

  private readonly legMeetings = new WeakMap<SipLeg, string>();

  private meetingOf(leg: SipLeg): string | undefined {
    return this.legMeetings.get(leg);
  }

  /** An INVITE from a terminal or MCU: into the meeting its number names, or refused with why. */
  private async dialIn(incoming: IncomingCall): Promise<void> {
    const { store, logger } = this.deps;
    const target = dialInTarget(incoming.request.uri.user);
    if (target.kind !== 'meeting') {
      incoming.reject(404, 'Not Found', [['Warning', `399 cityconf "dial the 8-digit meeting number: sip:<会议号>@host"`]]);
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
    const live = this.deps.roster.enter(record.id);
    let meeting: Meeting | undefined;
    let prepared: Awaited<ReturnType<typeof SipLeg.prepare>> | undefined;
    try {
      live.admit(identity.unitId, identity.role);
      meeting = await this.deps.sfu.openMeeting(record.id);
      prepared = await SipLeg.prepare({
        meeting,
        live,
        listenIp: this.deps.listenIp,
        logger,
        leave: (leg) => this.forget(leg, record.id, meeting!),
      });
      this.legMeetings.set(prepared.leg, record.id);
      this.legs.set(prepared.leg.id, prepared.leg);
      const local: LocalMedia = {
        address: this.mediaAddress(),
        audio: { port: prepared.ports.audioPort },
        video: { port: prepared.ports.videoPort },
      };
      const negotiation = answerOffer(incoming.offer ?? '', local);
      if (incoming.signal.aborted) throw new Error('the caller cancelled');
      const call = incoming.accept(negotiation.sdp);
      await prepared.leg.connect(call, negotiation, identity, local);
      logger.info({ meetingId: record.id, caller: caller.uri, name: identity.name }, 'sip dial-in joined');
    } catch (error) {
      prepared?.leg.end(error instanceof Error ? error.message : String(error));
      if (meeting && meeting.participants.size === 0) meeting.close();
      this.deps.roster.releaseIfEmpty(live);
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


  private forget(leg: SipLeg, meetingId: string, meeting: Meeting): void {
    this.legs.delete(leg.id);
    this.deps.roster.remove(meetingId, leg.id);
    if (meeting.participants.size === 0) meeting.close();
  }
}

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
