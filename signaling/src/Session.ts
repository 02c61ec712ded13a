import { randomUUID } from 'node:crypto';
import type { Meeting, mediasoupTypes as ms, Participant, ProducerAppData, Sfu } from '@cityconf/sfu';
import type { Socket } from 'socket.io';
import { verifyJoinToken, type JoinGrant } from './auth/tokens.js';
import type { AuthConfig } from './config.js';
import { ProtocolError } from './errors.js';
import type { Actor, LiveMeeting, Member } from './governance/LiveMeeting.js';
import { isChairRole, type MeetingRole } from './governance/roles.js';
import type { Logger } from './log.js';
import { CHAT_BURST, CHAT_PER_SECOND, REQUEST_BURST, REQUESTS_PER_SECOND, TokenBucket } from './rateLimit.js';
import {
  BATCHED_EVENTS,
  COMMAND_CENTRE_MEETING_ID,
  PROTOCOL_VERSION,
  ROLE_ACTIONS,
  type BatchedEventName,
  type ChairNoticeKind,
  type ChatMessage,
  type ParticipantInfo,
  type ProducerInfo,
  type RequestName,
  type RequestPayload,
  type RequestReplies,
  type ServerEventName,
  type ServerEvents,
} from './protocol.js';
import type { Roster } from './Roster.js';
import type { FeedManager } from './feeds/FeedManager.js';
import { NOT_RECORDING, type RecordingControl } from './recording/RecordingControl.js';
import { cascadeTargetSummary, meetingTerminals } from './sip/dialDirectory.js';
import type { SipLegControl } from './sip/SipLegControl.js';
import type { Store } from './store/types.js';

export interface SessionDeps {
  sfu: Sfu;
  roster: Roster;
  auth: AuthConfig;
  logger: Logger;
  /** Cascade targets and units (what a chair may dial over SIP). */
  store: Store;
  /** Drone and camera feeds (absent: listFeeds is empty and sharing is refused). */
  feeds?: FeedManager;
  /** Meeting recording (absent: recording is refused). */
  recordings?: RecordingControl;
  /** SIP legs: dialling out to MCUs and room terminals (absent with SIP_PORT=-1: refused). */
  sipLegs?: SipLegControl;
  /** Audio last-N size of new meetings (AUDIO_LAST_N). */
  audioLastN?: number;
}

type Handlers = { [N in RequestName]: (payload: RequestPayload<N>) => Promise<RequestReplies[N]> };

/** State of one joined connection. */
interface Joined {
  meeting: Meeting;
  live: LiveMeeting;
  participant: Participant;
  grant: JoinGrant;
  logger: Logger;
}

const LIVEKIT_SOURCE: Record<ProducerAppData['source'], string> = {
  camera: 'camera',
  microphone: 'microphone',
  screen: 'screen_share',
};

/** The socket.io room that reaches everyone in a meeting. */
export const meetingChannel = (meetingId: string): string => `meeting:${meetingId}`;

/** The socket.io room that reaches the meeting's chair, co-chairs and operators (SIP leg status). */
export const chairChannel = (meetingId: string): string => `chairs:${meetingId}`;

/**
 * One socket.io connection. Before `join` it only accepts `join`; after, it owns one SFU
 * participant and relays roster and producer changes to the rest of the meeting. Leaving,
 * disconnecting or losing the meeting's worker closes the participant and everything under it.
 */
export class Session implements Member {
  readonly kind = 'unit';
  private joined?: Joined;
  private joining = false;
  private leaving = false;
  /** Requests this connection may still send now (dispatch takes one per request). */
  readonly requestBudget = new TokenBucket(REQUEST_BURST, REQUESTS_PER_SECOND);
  private readonly chatBudget = new TokenBucket(CHAT_BURST, CHAT_PER_SECOND);

  private readonly connectionLogger: Logger;

  constructor(
    private readonly socket: Socket,
    private readonly deps: SessionDeps,
  ) {
    this.connectionLogger = deps.logger.child({ socketId: socket.id });
  }

  /** Logs with this connection's ids: socketId, and meetingId/participantId/identity once joined. */
  get logger(): Logger {
    return this.joined?.logger ?? this.connectionLogger;
  }

  get identity(): string {
    return this.requireJoined().grant.identity;
  }

  get participantId(): string {
    return this.requireJoined().participant.id;
  }

  get unitId(): string {
    return this.requireJoined().grant.unitId;
  }

  get role(): MeetingRole {
    return this.requireJoined().grant.role;
  }

  get name(): string {
    return this.requireJoined().grant.name;
  }

  /** Joined with a hidden grant: the others never hear of this session. */
  get hidden(): boolean {
    return this.joined?.grant.hidden ?? false;
  }

  private get actor(): Actor {
    const { grant } = this.requireJoined();
    return { name: grant.name, role: grant.role };
  }

  private get live(): LiveMeeting {
    return this.requireJoined().live;
  }

  /** The request handlers; payloads arrive validated against requestSchemas (protocol-schemas.ts). */
  readonly handlers: Handlers = {
    join: async ({ meetingId, token }) => {
      if (this.joined || this.joining) {
        throw new ProtocolError('ALREADY_JOINED', 'this connection has joined a meeting already; send leave first');
      }
      this.joining = true;
      try {
        return await this.join(meetingId, token);
      } finally {
        this.joining = false;
      }
    },

    setRtpCapabilities: async ({ rtpCapabilities }) => {
      this.requireJoined().participant.setRtpCapabilities(rtpCapabilities as unknown as ms.RtpCapabilities);
      return {};
    },

    createTransport: async ({ direction }) => {
      const { participant } = this.requireJoined();
      this.requireDirection(direction);
      return participant.createTransport(direction);
    },

    createPlainTransport: async ({ direction, rtcpMux, comedia }) => {
      const { participant } = this.requireJoined();
      this.requireDirection(direction);
      return participant.createPlainTransport(direction, { rtcpMux, comedia });
    },

    connectPlainTransport: async ({ transportId, ip, port, rtcpPort }) => {
      await this.requireJoined().participant.connectPlainTransport(transportId, { ip, port, rtcpPort });
      return {};
    },

    connectTransport: async ({ transportId, dtlsParameters }) => {
      await this.requireJoined().participant.connectTransport(transportId, dtlsParameters as ms.DtlsParameters);
      return {};
    },

    restartIce: async ({ transportId }) => ({
      iceParameters: await this.requireJoined().participant.restartIce(transportId),
    }),

    produce: async ({ transportId, kind, rtpParameters, source }) => {
      const { participant, grant } = this.requireJoined();
      if (!grant.canPublish) throw new ProtocolError('FORBIDDEN', 'your token does not allow publishing (canPublish is false)');
      if (grant.canPublishSources && !grant.canPublishSources.includes(LIVEKIT_SOURCE[source])) {
        throw new ProtocolError('FORBIDDEN', `your token does not allow publishing ${source}`);
      }
      if ((source === 'microphone') !== (kind === 'audio')) {
        throw new ProtocolError('BAD_REQUEST', `source ${source} cannot carry ${kind}`);
      }
      const producer = await participant.produce({
        transportId,
        kind,
        rtpParameters: rtpParameters as unknown as ms.RtpParameters,
        source,
      });
      if (source === 'microphone' && !this.live.micAllowed(this)) {
        // Floor control holds this microphone: it starts paused, and the client is told why.
        await producer.pause();
        this.notice('muted', this.live.record.title);
      }
      this.live.videoDemand.addProducer(producer);
      const info = producerInfo(producer);
      this.broadcast('producerAdded', { participantId: participant.id, producer: info });
      this.live.trackPublished(this, info);
      return { id: producer.id };
    },

    pauseProducer: async ({ producerId }) => {
      await this.setProducerPaused(producerId, true);
      return {};
    },

    resumeProducer: async ({ producerId }) => {
      const { participant, live } = this.requireJoined();
      const source = (participant.producer(producerId).appData as ProducerAppData).source;
      if (source === 'microphone' && !live.micAllowed(this)) {
        throw new ProtocolError(
          'FLOOR_REQUIRED',
          live.control.state().floorMode === 'controlled'
            ? 'the chair controls the floor: raise your hand and wait to be granted the floor'
            : 'the chair has muted everyone and does not allow unmuting yourself: raise your hand',
        );
      }
      await this.setProducerPaused(producerId, false);
      return {};
    },

    closeProducer: async ({ producerId }) => {
      const { participant, live } = this.requireJoined();
      const info = producerInfo(participant.producer(producerId));
      participant.closeProducer(producerId);
      live.trackUnpublished(this, info);
      this.broadcast('producerClosed', { participantId: participant.id, producerId });
      return {};
    },

    consume: async ({ producerId }) => {
      const { participant, grant } = this.requireJoined();
      if (!grant.canSubscribe) throw new ProtocolError('FORBIDDEN', 'your token does not allow subscribing (canSubscribe is false)');
      const consumer = await participant.consume(producerId);
      this.live.videoDemand.addConsumer(consumer);
      const appData = consumer.appData as ProducerAppData;
      return {
        id: consumer.id,
        producerId,
        participantId: appData.participantId,
        kind: consumer.kind,
        source: appData.source,
        rtpParameters: consumer.rtpParameters as unknown as RequestReplies['consume']['rtpParameters'],
        producerPaused: consumer.producerPaused,
      };
    },

    resumeConsumer: async ({ consumerId }) => {
      await this.requireJoined().participant.consumer(consumerId).resume();
      return {};
    },

    pauseConsumer: async ({ consumerId }) => {
      await this.requireJoined().participant.consumer(consumerId).pause();
      return {};
    },

    closeConsumer: async ({ consumerId }) => {
      this.requireJoined().participant.consumer(consumerId).close();
      return {};
    },

    setPreferredLayers: async ({ consumerId, spatialLayer, temporalLayer, priority }) => {
      const { participant } = this.requireJoined();
      await participant.setPreferredLayers(consumerId, { spatialLayer, temporalLayer });
      if (priority !== undefined) await participant.consumer(consumerId).setPriority(priority);
      return {};
    },

    sendChat: async ({ text }) => {
      const { live, participant, grant } = this.requireVisible('chat');
      live.authorize(this.actor, 'chat');
      if (!this.chatBudget.take()) throw new ProtocolError('RATE_LIMITED', 'too many chat messages: wait a few seconds');
      const message: ChatMessage = {
        id: randomUUID(),
        participantId: participant.id,
        identity: grant.identity,
        name: grant.name,
        text,
        sentAt: Date.now(),
      };
      live.appendChat(message);
      this.broadcast('chatMessage', { message });
      return { message };
    },

    setHandRaised: async ({ raised }) => {
      const { live, grant } = this.requireVisible('raise a hand');
      live.authorize(this.actor, 'raiseHand');
      if (live.handRaised(grant.unitId) !== raised) {
        live.setHandRaised(this, raised);
        this.broadcast('participantUpdated', { participant: this.info() });
      }
      return {};
    },

    leave: async () => {
      this.requireJoined();
      this.leave();
      return {};
    },

    // ---- chair console: LiveMeeting checks the role and applies each action ----

    muteAll: async ({ allowSelfUnmute }) => {
      await this.live.muteAll(this.actor, allowSelfUnmute);
      return {};
    },
    setAllowSelfUnmute: async ({ allowed }) => {
      await this.live.setAllowSelfUnmute(this.actor, allowed);
      return {};
    },
    setFloorMode: async ({ mode }) => {
      await this.live.setFloorMode(this.actor, mode);
      return {};
    },
    setLocked: async ({ locked }) => {
      this.live.setLocked(this.actor, locked);
      return {};
    },
    muteParticipant: async ({ participantId, source }) => {
      await this.live.muteParticipant(this.actor, participantId, source);
      return {};
    },
    requestUnmute: async ({ participantId }) => {
      this.live.requestUnmute(this.actor, participantId);
      return {};
    },
    removeParticipant: async ({ participantId }) => {
      this.live.removeParticipant(this.actor, participantId);
      return {};
    },
    endMeeting: async () => {
      this.live.end(this.actor);
      return {};
    },
    grantFloor: async ({ unitId }) => {
      await this.live.grantFloor(this.actor, unitId);
      return {};
    },
    denyFloor: async ({ unitId }) => {
      this.live.denyFloor(this.actor, unitId);
      return {};
    },
    revokeFloor: async ({ unitId }) => {
      await this.live.revokeFloor(this.actor, unitId);
      return {};
    },
    rollCall: async ({ unitId }) => {
      await this.live.rollCall(this.actor, unitId);
      return { unitId };
    },
    rollCallNext: async () => ({ unitId: await this.live.rollCallNext(this.actor) }),
    markRollCall: async ({ unitId, result }) => {
      this.live.markRollCall(this.actor, unitId, result);
      return {};
    },
    finishRollCall: async () => {
      await this.live.finishRollCall(this.actor);
      return {};
    },
    setBroadcast: async ({ unitId }) => {
      this.live.setBroadcast(this.actor, unitId);
      return {};
    },
    listFeeds: async () => {
      if (this.live.id !== COMMAND_CENTRE_MEETING_ID) this.live.authorize(this.actor, 'shareFeed');
      return { feeds: this.deps.feeds?.list() ?? [] };
    },
    shareFeed: async ({ feedId }) => {
      this.live.authorize(this.actor, 'shareFeed');
      await this.requireFeeds().share(feedId, this.live.id, this.actor.name);
      return {};
    },
    unshareFeed: async ({ feedId }) => {
      this.live.authorize(this.actor, 'shareFeed');
      this.requireFeeds().unshare(feedId, this.live.id, this.actor.name);
      return {};
    },
    startRecording: async () => {
      this.live.authorize(this.actor, 'record');
      return { recordingId: await this.requireRecordings().start(this.live.id, this.actor.name) };
    },
    stopRecording: async () => {
      this.live.authorize(this.actor, 'record');
      await this.requireRecordings().stop(this.live.id, this.actor.name);
      return {};
    },
    listSipLegs: async () => {
      this.live.authorize(this.actor, 'cascade');
      const { store } = this.deps;
      return {
        legs: this.requireSipLegs().legs(this.live.id),
        targets: store.cascadeTargets.list().map(cascadeTargetSummary),
        terminals: meetingTerminals(this.live.record, store.units.list()),
      };
    },
    dialSip: async (request) => {
      this.live.authorize(this.actor, 'cascade');
      return { leg: await this.requireSipLegs().dial(this.live.id, request, this.actor.name) };
    },
    hangupSip: async ({ legId }) => {
      this.live.authorize(this.actor, 'cascade');
      if (!this.requireSipLegs().hangup(this.live.id, legId)) {
        throw new ProtocolError('NOT_FOUND', `this meeting has no SIP leg "${legId}": it may have ended already (listSipLegs)`);
      }
      return {};
    },
  };

  private requireFeeds(): FeedManager {
    if (!this.deps.feeds) throw new ProtocolError('UNSUPPORTED', 'this server runs without drone and camera feeds');
    return this.deps.feeds;
  }

  private requireRecordings(): RecordingControl {
    if (!this.deps.recordings) throw new ProtocolError('UNSUPPORTED', 'this server runs without recording (no RECORDINGS_DIR)');
    return this.deps.recordings;
  }

  private requireSipLegs(): SipLegControl {
    if (!this.deps.sipLegs) throw new ProtocolError('UNSUPPORTED', 'this server runs without SIP (SIP_PORT=-1): no cascading or room terminals');
    return this.deps.sipLegs;
  }

  /** Leaves the meeting, if joined: closes the SFU participant and tells the others. */
  leave(): void {
    const joined = this.joined;
    if (!joined || this.leaving) return;
    const { meeting, participant, logger } = joined;
    this.leaving = true;
    try {
      participant.close();
      this.deps.roster.remove(meeting.id, participant.id); // still joined: the roster reads our unit
    } finally {
      this.joined = undefined;
      this.leaving = false;
    }
    if (!joined.grant.hidden) joined.live.batcher.queue('participantLeft', { participantId: participant.id }, participant.id);
    void this.socket.leave(meetingChannel(meeting.id));
    void this.socket.leave(chairChannel(meeting.id));
    if (meeting.participants.size === 0) meeting.close();
    logger.info('participant left');
  }

  /** Ends the session from the server side, telling the client why, then leaves. */
  end(reason: ServerEvents['sessionEnded']['reason'], message: string): void {
    this.emit('sessionEnded', { reason, message });
    this.leave();
  }

  videoDemand(producerId: string, wanted: boolean): void {
    this.emit('videoDemand', { producerId, wanted });
  }

  /** Tells this participant what the chair did to it. */
  notice(kind: ChairNoticeKind, by: string): void {
    this.emit('chairNotice', { kind, by });
  }

  /** Pauses this participant's running producer of `source` on the server; false if there is none. */
  async pauseSource(source: 'microphone' | 'camera'): Promise<boolean> {
    const joined = this.joined;
    if (!joined) return false;
    const producer = [...joined.participant.producers.values()].find(
      (candidate) => (candidate.appData as ProducerAppData).source === source && !candidate.paused,
    );
    if (!producer) return false;
    await this.setProducerPaused(producer.id, true);
    return true;
  }

  info(): ParticipantInfo {
    const { participant, grant, live } = this.requireJoined();
    return {
      id: participant.id,
      identity: grant.identity,
      unitId: grant.unitId,
      role: grant.role,
      name: grant.name,
      isAdmin: grant.isAdmin,
      handRaised: live.handRaised(grant.unitId),
      attributes: grant.attributes,
      producers: [...participant.producers.values()].map(producerInfo),
    };
  }

  private async join(meetingId: string, token: string): Promise<RequestReplies['join']> {
    const { sfu, roster, auth } = this.deps;
    const grant = await verifyJoinToken(auth, token, meetingId);
    for (const member of roster.members(meetingId)) {
      if (member instanceof Session && member.joined?.grant.identity === grant.identity) {
        member.end('SESSION_REPLACED', `${grant.identity} joined this meeting from another connection`);
      }
    }
    const live = roster.enter(meetingId);
    let meeting: Meeting | undefined;
    let participant: Participant | undefined;
    try {
      live.admit(grant.unitId, grant.role);
      meeting = await sfu.openMeeting(meetingId, { audibleSize: this.deps.audioLastN });
      participant = meeting.addParticipant(randomUUID());
      if (this.socket.disconnected) throw new ProtocolError('INVALID_STATE', 'the connection closed while joining');
      if (live.record.state === 'ended') throw new ProtocolError('MEETING_ENDED', `meeting ${meetingId} has ended`);
    } catch (error) {
      participant?.close();
      if (meeting && meeting.participants.size === 0) meeting.close();
      roster.releaseIfEmpty(live);
      throw error;
    }

    const participantId = participant.id;
    const logger = this.connectionLogger.child({ meetingId, participantId, identity: grant.identity });
    this.joined = { meeting, live, participant, grant, logger };
    participant.on('consumerclosed', (consumerId) => this.emit('consumerClosed', { consumerId }));
    const joinedParticipant = participant;
    // A dying worker closes the participants placed on it (the meeting may carry on elsewhere).
    participant.once('close', (reason) => {
      if (reason === 'worker-died' && this.joined?.participant === joinedParticipant) {
        this.end('MEDIA_SERVER_RESTARTED', 'the media server for this meeting restarted; join again to continue');
      }
    });

    // In the channel before the snapshot: a change after it arrives in a batch (seq > rosterSeq).
    await this.socket.join(meetingChannel(meetingId));
    if (isChairRole(grant.role)) await this.socket.join(chairChannel(meetingId));
    const others = live.visibleMembers().map((member) => member.info());
    const rosterSeq = live.batcher.lastSeq;
    live.add(this);
    const self = this.info();
    this.broadcast('participantJoined', { participant: self });
    logger.info({ name: grant.name, role: grant.role }, 'participant joined');

    return {
      protocolVersion: PROTOCOL_VERSION,
      meetingId,
      self,
      permissions: {
        canPublish: grant.canPublish,
        canSubscribe: grant.canSubscribe,
        isAdmin: grant.isAdmin,
        role: grant.role,
        actions: [...ROLE_ACTIONS[grant.role]],
      },
      routerRtpCapabilities: meeting.rtpCapabilities as unknown as RequestReplies['join']['routerRtpCapabilities'],
      participants: others,
      rosterSeq,
      chatHistory: live.chatHistory(),
      activeSpeakerId: meeting.activeSpeakerId,
      audibleIds: meeting.audibleIds,
      meeting: live.summary(),
      control: live.control.state(),
      rollCallResults: live.control.rollCallResults(),
      directory: live.directory(),
      recording: this.deps.recordings?.state(meetingId) ?? NOT_RECORDING,
    };
  }

  private async setProducerPaused(producerId: string, paused: boolean): Promise<void> {
    const { participant } = this.requireJoined();
    const producer = participant.producer(producerId);
    if (paused) await producer.pause();
    else await producer.resume();
    this.broadcast('producerUpdated', { participantId: participant.id, producerId, paused });
  }

  private requireJoined(): Joined {
    if (!this.joined) throw new ProtocolError('NOT_JOINED', 'join a meeting first');
    return this.joined;
  }

  /** A send transport needs canPublish, a recv transport canSubscribe. */
  private requireDirection(direction: 'send' | 'recv'): void {
    const { grant } = this.requireJoined();
    if (direction === 'send' && !grant.canPublish) {
      throw new ProtocolError('FORBIDDEN', 'your token does not allow publishing (canPublish is false)');
    }
    if (direction === 'recv' && !grant.canSubscribe) {
      throw new ProtocolError('FORBIDDEN', 'your token does not allow subscribing (canSubscribe is false)');
    }
  }

  private requireVisible(action: string): Joined {
    const joined = this.requireJoined();
    if (joined.grant.hidden) throw new ProtocolError('FORBIDDEN', `a hidden participant cannot ${action}`);
    return joined;
  }

  /**
   * Sends an event to everyone else in this session's meeting; a hidden session sends nothing.
   * Roster and producer changes go into the meeting's next rosterBatch.
   */
  private broadcast<E extends ServerEventName>(event: E, payload: ServerEvents[E]): void {
    const joined = this.joined;
    if (!joined || joined.grant.hidden) return;
    if (isBatched(event)) joined.live.batcher.queue(event, payload as ServerEvents[typeof event], joined.participant.id);
    else this.socket.to(meetingChannel(joined.meeting.id)).emit(event, payload);
  }

  private emit<E extends ServerEventName>(event: E, payload: ServerEvents[E]): void {
    this.socket.emit(event, payload);
  }
}

function producerInfo(producer: ms.Producer): ProducerInfo {
  return {
    id: producer.id,
    kind: producer.kind,
    source: (producer.appData as ProducerAppData).source,
    paused: producer.paused,
  };
}

const isBatched = (event: ServerEventName): event is BatchedEventName => (BATCHED_EVENTS as readonly string[]).includes(event);
