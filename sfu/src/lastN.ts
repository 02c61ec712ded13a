// Who is heard in a meeting, from audio levels: the active speaker and the audible set (audio
// last-N). Pure functions of their inputs, so the choices are testable without media.

/** One participant heard in an observation window: average level in dBov (0 loudest, -127 silent). */
export interface HeardLevel {
  participantId: string;
  volume: number;
}

/**
 * A current speaker stays while they are heard within this many dB of the loudest: two people
 * talking at once do not swap the main tile on every window.
 */
export const SPEAKER_SWITCH_MARGIN_DB = 6;

/**
 * One list of who is heard, loudest first, from several observers' reports (one per router).
 * A participant reported twice (two audio producers) counts at their louder level; equal levels
 * order by participant id so the result depends on nothing but the input.
 */
export function mergeHeard(reports: Iterable<readonly HeardLevel[]>): HeardLevel[] {
  const loudest = new Map<string, number>();
  for (const report of reports) {
    for (const { participantId, volume } of report) {
      loudest.set(participantId, Math.max(volume, loudest.get(participantId) ?? -Infinity));
    }
  }
  return [...loudest]
    .map(([participantId, volume]) => ({ participantId, volume }))
    .sort((a, b) => b.volume - a.volume || (a.participantId < b.participantId ? -1 : 1));
}

/**
 * The audible set after a window in which `heard` (loudest first) spoke: they lead, loudest first,
 * followed by the previous set in its order; at most `size` ids. Silence changes nothing, so the
 * set only changes when someone speaks.
 */
export function nextAudible(previous: readonly string[], heard: readonly HeardLevel[], size: number): string[] {
  const speaking = heard.map((level) => level.participantId);
  const kept = previous.filter((participantId) => !speaking.includes(participantId));
  return [...speaking, ...kept].slice(0, size);
}

/**
 * The active speaker after a window in which `heard` (loudest first) spoke: the loudest, unless
 * the current speaker is still heard within SPEAKER_SWITCH_MARGIN_DB of them. Kept through silence.
 */
export function nextSpeaker(current: string | null, heard: readonly HeardLevel[]): string | null {
  const loudest = heard[0];
  if (!loudest) return current;
  const currentLevel = heard.find((level) => level.participantId === current);
  if (currentLevel && currentLevel.volume >= loudest.volume - SPEAKER_SWITCH_MARGIN_DB) return current;
  return loudest.participantId;
}

export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}
