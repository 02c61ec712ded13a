// Drone and camera feeds as LiveKit ingresses: ingress id = feed id, publishing into the command
// centre room as participant `feed:<id>`.
import type { FeedEvents } from '../feeds/FeedManager.js';
import { COMMAND_CENTRE_MEETING_ID, type FeedStatus } from '../protocol.js';
import type { FeedRecord } from '../store/types.js';
import type { WebhookIngress } from './events.js';
import type { WebhookNotifier } from './WebhookNotifier.js';

function ingress(status: FeedStatus, record: FeedRecord, startedAt: number | undefined): Omit<WebhookIngress, 'status'> {
  const { video } = status;
  return {
    id: record.id,
    name: record.name,
    kind: record.kind,
    streamKey: record.streamKey ?? undefined,
    url: record.url ?? undefined,
    roomName: COMMAND_CENTRE_MEETING_ID,
    participantIdentity: `feed:${record.id}`,
    participantName: record.name,
    error: status.error ?? undefined,
    startedAt,
    video: video?.width && video.height ? { codec: video.codec, width: video.width, height: video.height } : undefined,
  };
}

/** Sends feed start and end to the configured webhook URLs. */
export function feedWebhooks(notifier: WebhookNotifier): FeedEvents {
  /** When each live feed went live: its ingress_ended carries it too, as LiveKit's does. */
  const liveSince = new Map<string, number>();
  return {
    feedStarted(status, record) {
      const startedAt = status.liveSince ?? status.since;
      liveSince.set(record.id, startedAt);
      notifier.ingressStarted({ ...ingress(status, record, startedAt), status: 'ENDPOINT_PUBLISHING' });
    },
    feedEnded(status, record) {
      const startedAt = liveSince.get(record.id);
      liveSince.delete(record.id);
      notifier.ingressEnded({ ...ingress(status, record, startedAt), status: status.error ? 'ENDPOINT_ERROR' : 'ENDPOINT_INACTIVE', endedAt: status.since });
    },
  };
}
