import { randomUUID } from 'node:crypto';
import type { Meeting, mediasoupTypes as ms, Participant, ProducerAppData, Sfu } from '@cityconf/sfu';
import type { Socket } from 'socket.io';
import { verifyJoinToken, type JoinGrant } from './auth/tokens.js';
import type { AuthConfig } from './config.js';
import { ProtocolError } from './errors.js';
import type { Logger } from './log.js';
import {
  PROTOCOL_VERSION,
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

export interface SessionDeps {
  sfu: Sfu;
  roster: Roster;
  auth: AuthConfig;
  logger: Logger;
}

type Handlers = { [N in RequestName]: (payload: RequestPayload<N>) => Promise<RequestReplies[N]> };

/** State of one joined connection. */
interface Joined {
  meeting: Meeting;
  participant: Participant;
  grant: JoinGrant;
  logger: Logger;
  handRaised: boolean;
}

const LIVEKIT_SOURCE: Record<ProducerAppData['source'], string> = {
  camera: 'camera',
  microphone: 'microphone',
  screen: 'screen_share',
};

/** The socket.io room that reaches everyone in a meeting. */
export const meetingChannel = (meetingId: string): string => `meeting:${meetingId}`;

/**
 * One socket.io connection. Before `join` it only accepts `join`; after, it owns one SFU
 * participant and relays roster and producer changes to the rest of the meeting. Leaving,
 * disconnecting or losing the meeting's worker closes the participant and everything under it.
 */
export class Session {
  private joined?: Joined;
  private joining = false;

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

  get identity(): string | undefined {
    return this.joined?.grant.identity;
  }

  get participantId(): string | undefined {
    return this.joined?.participant.id;
  }

  /** Joined with a hidden grant: the others never hear of this session. */
  get hidden(): boolean {
    return this.joined?.grant.hidden ?? false;
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
      const { participant, grant } = this.requireJoined();
      if (direction === 'send' && !grant.canPublish) {
        throw new ProtocolError('FORBIDDEN', 'your token does not allow publishing (canPublish is false)');
      }
      if (direction === 'recv' && !grant.canSubscribe) {
        throw new ProtocolError('FORBIDDEN', 'your token does not allow subscribing (canSubscribe is false)');
      }
      return participant.createTransport(direction);
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
      this.broadcast('producerAdded', { participantId: participant.id, producer: producerInfo(producer) });
      return { id: producer.id };
    },

    pauseProducer: async ({ producerId }) => {
      await this.setProducerPaused(producerId, true);
      return {};
    },

    resumeProducer: async ({ producerId }) => {
      await this.setProducerPaused(producerId, false);
      return {};
    },

    closeProducer: async ({ producerId }) => {
      const { participant } = this.requireJoined();
      participant.closeProducer(producerId);
      this.broadcast('producerClosed', { participantId: participant.id, producerId });
      return {};
    },

    consume: async ({ producerId }) => {
      const { participant, grant } = this.requireJoined();
      if (!grant.canSubscribe) throw new ProtocolError('FORBIDDEN', 'your token does not allow subscribing (canSubscribe is false)');
      const consumer = await participant.consume(producerId);
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

    setPreferredLayers: async ({ consumerId, spatialLayer, temporalLayer }) => {
      await this.requireJoined().participant.setPreferredLayers(consumerId, { spatialLayer, temporalLayer });
      return {};
    },

    sendChat: async ({ text }) => {
      const { meeting, participant, grant } = this.requireVisible('chat');
      const message: ChatMessage = {
        id: randomUUID(),
        participantId: participant.id,
        identity: grant.identity,
        name: grant.name,
        text,
        sentAt: Date.now(),
      };
      this.deps.roster.chat(meeting.id).append(message);
      this.broadcast('chatMessage', { message });
      return { message };
    },

    setHandRaised: async ({ raised }) => {
      const joined = this.requireVisible('raise a hand');
      if (joined.handRaised !== raised) {
        joined.handRaised = raised;
        this.broadcast('participantUpdated', { participant: this.info() });
      }
      return {};
    },

    leave: async () => {
      this.requireJoined();
      this.leave();
      return {};
    },
  };

  /** Leaves the meeting, if joined: closes the SFU participant and tells the others. */
  leave(): void {
    const joined = this.joined;
    if (!joined) return;
    this.joined = undefined;
    const { meeting, participant, logger } = joined;
    participant.close();
    this.deps.roster.remove(meeting.id, participant.id);
    if (!joined.grant.hidden) {
      this.socket.to(meetingChannel(meeting.id)).emit('participantLeft', { participantId: participant.id });
    }
    void this.socket.leave(meetingChannel(meeting.id));
    if (meeting.participants.size === 0) meeting.close();
    logger.info('participant left');
  }

  /** Ends the session from the server side, telling the client why, then leaves. */
  end(reason: ServerEvents['sessionEnded']['reason'], message: string): void {
    this.emit('sessionEnded', { reason, message });
    this.leave();
  }

  info(): ParticipantInfo {
    const { participant, grant, handRaised } = this.requireJoined();
    return {
      id: participant.id,
      identity: grant.identity,
      name: grant.name,
      isAdmin: grant.isAdmin,
      handRaised,
      attributes: grant.attributes,
      producers: [...participant.producers.values()].map(producerInfo),
    };
  }

  private async join(meetingId: string, token: string): Promise<RequestReplies['join']> {
    const { sfu, roster, auth } = this.deps;
    const grant = await verifyJoinToken(auth, token, meetingId);

    roster
      .findByIdentity(meetingId, grant.identity)
      ?.end('SESSION_REPLACED', `${grant.identity} joined this meeting from another connection`);

    const participantId = randomUUID();
    let meeting: Meeting;
    do meeting = await sfu.openMeeting(meetingId);
    while (meeting.isClosed); // the last participant closed it while we waited: open a new one
    const participant = meeting.addParticipant(participantId);
    const logger = this.connectionLogger.child({ meetingId, participantId, identity: grant.identity });

    if (this.socket.disconnected) {
      participant.close();
      if (meeting.participants.size === 0) meeting.close();
      throw new ProtocolError('INVALID_STATE', 'the connection closed while joining');
    }

    this.joined = { meeting, participant, grant, logger, handRaised: false };
    participant.on('consumerclosed', (consumerId) => this.emit('consumerClosed', { consumerId }));
    meeting.once('close', (reason) => {
      if (reason === 'worker-died' && this.joined?.participant === participant) {
        this.end('MEDIA_SERVER_RESTARTED', 'the media server for this meeting restarted; join again to continue');
      }
    });

    const others = roster
      .members(meetingId)
      .filter((session) => !session.hidden)
      .map((session) => session.info());
    roster.add(meetingId, participantId, this);
    await this.socket.join(meetingChannel(meetingId));
    const self = this.info();
    this.broadcast('participantJoined', { participant: self });
    logger.info({ name: grant.name, isAdmin: grant.isAdmin }, 'participant joined');

    return {
      protocolVersion: PROTOCOL_VERSION,
      meetingId,
      self,
      permissions: { canPublish: grant.canPublish, canSubscribe: grant.canSubscribe, isAdmin: grant.isAdmin },
      routerRtpCapabilities: meeting.rtpCapabilities as unknown as RequestReplies['join']['routerRtpCapabilities'],
      participants: others,
      chatHistory: roster.chat(meetingId).recent(),
      activeSpeakerId: meeting.activeSpeakerId,
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

  private requireVisible(action: string): Joined {
    const joined = this.requireJoined();
    if (joined.grant.hidden) throw new ProtocolError('FORBIDDEN', `a hidden participant cannot ${action}`);
    return joined;
  }

  /** Sends an event to everyone else in this session's meeting; a hidden session sends nothing. */
  private broadcast<E extends ServerEventName>(event: E, payload: ServerEvents[E]): void {
    if (this.joined && !this.joined.grant.hidden) this.socket.to(meetingChannel(this.joined.meeting.id)).emit(event, payload);
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
