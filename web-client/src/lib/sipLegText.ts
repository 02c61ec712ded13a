// How the chair console writes a SIP leg's figures: its codecs (H.264 42e01f · G.722), bit rates
// (↓1980 ↑2010 kbps), loss (0.4%) and the clock time of its next redial.
import type { SipDialRequest, SipLegStatus } from '@cityconf/signaling/protocol';

const CODEC_NAMES: Record<string, string> = {
  h264: 'H.264',
  g722: 'G.722',
  pcma: 'G.711A',
  pcmu: 'G.711μ',
  opus: 'Opus',
};

const codecName = (codec: string): string => CODEC_NAMES[codec.toLowerCase()] ?? codec;

/** "H.264 42e01f · G.722", with "· SRTP" when the media is encrypted; null before connecting. */
export function codecText({ audio, video }: Pick<SipLegStatus, 'audio' | 'video'>): string | null {
  const parts: string[] = [];
  if (video) parts.push(video.profileLevelId ? `${codecName(video.codec)} ${video.profileLevelId}` : codecName(video.codec));
  if (audio) parts.push(codecName(audio.codec));
  if (parts.length === 0) return null;
  if (audio?.srtp || video?.srtp) parts.push('SRTP');
  return parts.join(' · ');
}

/** "↓1980 ↑2010 kbps": what the site sends us, what we send it. */
export function rateText({ rxKbps, txKbps }: Pick<SipLegStatus, 'rxKbps' | 'txKbps'>): string {
  return `↓${Math.round(rxKbps)} ↑${Math.round(txKbps)} kbps`;
}

/** "0.4%" under 10 %, "12%" from there. */
export function lossText(lossPct: number): string {
  const pct = Math.max(0, lossPct);
  return `${pct < 10 ? (Math.round(pct * 10) / 10).toFixed(1) : Math.round(pct)}%`;
}

const clockFormat = new Intl.DateTimeFormat('zh-CN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** The local clock time of `at` (ms since the epoch): 14:03:05. */
export function clockTime(at: number): string {
  return clockFormat.format(at);
}

/** Whether the leg is still on or being dialled (it can be hung up; its site cannot be dialled again). */
export const isActiveLeg = (leg: SipLegStatus): boolean => leg.state === 'calling' || leg.state === 'connected' || leg.state === 'redialing';

/** The active leg that dials this target or unit, if any. */
export function activeLegFor(legs: readonly SipLegStatus[], request: SipDialRequest): SipLegStatus | undefined {
  return legs.find((leg) => isActiveLeg(leg) && ('targetId' in request ? leg.targetId === request.targetId : leg.unitId === request.unitId));
}
