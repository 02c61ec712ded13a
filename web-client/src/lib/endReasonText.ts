// What a screen says once its session is over: the same words after leaving, after the chair ended
// the meeting, after being removed, or after joining elsewhere, on a unit's page and on a wall.
import type { MessageKey } from './i18n.svelte';
import type { EndReason } from './MeetingSession';

export interface EndReasonText {
  title: MessageKey;
  /** What the reader can do now. */
  next: MessageKey;
  /** The rejoin button's text; null when the chair ended the meeting or removed the reader. */
  rejoin: MessageKey | null;
}

const TEXTS: Record<EndReason, EndReasonText> = {
  left: { title: 'left.title', next: 'left.next', rejoin: 'left.rejoin' },
  sessionReplaced: { title: 'left.sessionReplaced', next: 'left.sessionReplacedNext', rejoin: 'left.rejoinHere' },
  meetingEnded: { title: 'left.meetingEnded', next: 'left.meetingEndedNext', rejoin: null },
  removed: { title: 'left.removed', next: 'left.removedNext', rejoin: null },
};

/** The texts for an end reason; no reason reads as leaving. */
export function endReasonText(reason: EndReason | null): EndReasonText {
  return TEXTS[reason ?? 'left'];
}
