// Live-meeting events as LiveKit webhooks: room = meeting run, participant = unit, track = producer.
import type { EventParticipant, MeetingEvents, MeetingRun } from '../governance/meetingEvents.js';
import type { ProducerInfo } from '../protocol.js';
import type { WebhookParticipant, WebhookRoom, WebhookTrack } from './events.js';
import type { WebhookNotifier } from './WebhookNotifier.js';

function room({ meeting, startedAt, participants }: MeetingRun): WebhookRoom {
  return {
    // A new sid per run, as LiveKit gives a room a new sid each time it starts.
    sid: `RM_${meeting.id}_${startedAt.toString(36)}`,
    name: meeting.id,
    numParticipants: participants,
    creationTime: startedAt,
    metadata: JSON.stringify({ number: meeting.number, title: meeting.title }),
  };
}

function participant({ info, joinedAt }: EventParticipant): WebhookParticipant {
  return {
    sid: `PA_${info.id}`,
    identity: info.identity,
    name: info.name,
    metadata: JSON.stringify({ role: info.role, unitId: info.unitId }),
    attributes: info.attributes,
    joinedAt,
  };
}

const track = (producer: ProducerInfo): WebhookTrack => ({
  sid: `TR_${producer.id}`,
  type: producer.kind,
  source: producer.source,
  muted: producer.paused,
});

/** Sends every live-meeting event to the configured webhook URLs. */
export function meetingWebhooks(notifier: WebhookNotifier): MeetingEvents {
  return {
    meetingStarted: (run) => notifier.roomStarted(room(run)),
    meetingFinished: (run) => notifier.roomFinished(room(run)),
    participantJoined: (run, who) => notifier.participantJoined(room(run), participant(who)),
    participantLeft: (run, who) => notifier.participantLeft(room(run), participant(who)),
    trackPublished: (run, who, producer) => notifier.trackPublished(room(run), participant(who), track(producer)),
    trackUnpublished: (run, who, producer) => notifier.trackUnpublished(room(run), participant(who), track(producer)),
  };
}
