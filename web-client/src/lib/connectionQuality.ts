// How good the media connection is, from two getStats samples taken ~2 s apart: round-trip time,
// packet loss and bitrates, and from them one of three levels a non-technical user can read.
// Pure functions; MediaConnection takes the samples.

export type QualityLevel = 'good' | 'fair' | 'poor';

/** Counters summed over both transports at one moment. */
export interface TransportSample {
  /** performance.now() when taken. */
  atMs: number;
  /** Worst current round-trip time of the transports' selected candidate pairs; null before ICE connects. */
  rttMs: number | null;
  packetsLost: number;
  packetsReceived: number;
  bytesReceived: number;
  bytesSent: number;
}

export interface QualityReading {
  level: QualityLevel;
  rttMs: number | null;
  /** Packets lost in the interval, of those expected, 0–100. */
  lossPercent: number;
  receiveKbps: number;
  sendKbps: number;
}

/** Upper bounds of "good" and of "fair"; above the second is "poor". */
const GOOD = { rttMs: 150, lossPercent: 2 };
const FAIR = { rttMs: 400, lossPercent: 8 };

export function classifyQuality(rttMs: number | null, lossPercent: number): QualityLevel {
  const rtt = rttMs ?? 0;
  if (rtt > FAIR.rttMs || lossPercent > FAIR.lossPercent) return 'poor';
  if (rtt > GOOD.rttMs || lossPercent > GOOD.lossPercent) return 'fair';
  return 'good';
}

export function readQuality(previous: TransportSample, current: TransportSample): QualityReading {
  const seconds = Math.max(0.001, (current.atMs - previous.atMs) / 1000);
  const lost = Math.max(0, current.packetsLost - previous.packetsLost);
  const received = Math.max(0, current.packetsReceived - previous.packetsReceived);
  const lossPercent = lost + received > 0 ? (100 * lost) / (lost + received) : 0;
  const kbps = (bytes: number): number => Math.max(0, Math.round((bytes * 8) / 1000 / seconds));
  return {
    level: classifyQuality(current.rttMs, lossPercent),
    rttMs: current.rttMs,
    lossPercent: Math.round(lossPercent * 10) / 10,
    receiveKbps: kbps(current.bytesReceived - previous.bytesReceived),
    sendKbps: kbps(current.bytesSent - previous.bytesSent),
  };
}
