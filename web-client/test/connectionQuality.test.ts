import { describe, expect, it } from 'vitest';
import { classifyQuality, readQuality, type TransportSample } from '../src/lib/connectionQuality';

const sample = (overrides: Partial<TransportSample>): TransportSample => ({
  atMs: 0,
  rttMs: 20,
  packetsLost: 0,
  packetsReceived: 0,
  bytesReceived: 0,
  bytesSent: 0,
  ...overrides,
});

describe('classifyQuality', () => {
  it('is good on a short, clean path', () => {
    expect(classifyQuality(20, 0)).toBe('good');
    expect(classifyQuality(150, 2)).toBe('good');
    expect(classifyQuality(null, 0)).toBe('good');
  });

  it('is fair when either the delay or the loss is noticeable', () => {
    expect(classifyQuality(151, 0)).toBe('fair');
    expect(classifyQuality(20, 2.1)).toBe('fair');
    expect(classifyQuality(400, 8)).toBe('fair');
  });

  it('is poor when either is bad', () => {
    expect(classifyQuality(401, 0)).toBe('poor');
    expect(classifyQuality(20, 8.1)).toBe('poor');
  });
});

describe('readQuality', () => {
  it('computes loss and bitrates over the interval, not since the start', () => {
    const previous = sample({ atMs: 10_000, packetsLost: 50, packetsReceived: 1_000, bytesReceived: 1_000_000, bytesSent: 500_000 });
    const current = sample({
      atMs: 12_000,
      rttMs: 180,
      packetsLost: 53,
      packetsReceived: 1_097,
      bytesReceived: 1_250_000,
      bytesSent: 600_000,
    });
    expect(readQuality(previous, current)).toEqual({ level: 'fair', rttMs: 180, lossPercent: 3, receiveKbps: 1000, sendKbps: 400 });
  });

  it('reports no loss when nothing was expected, and never negative counters', () => {
    const previous = sample({ atMs: 0, packetsLost: 5, bytesReceived: 100, bytesSent: 100 });
    const current = sample({ atMs: 2_000, packetsLost: 3, bytesReceived: 0, bytesSent: 0 });
    expect(readQuality(previous, current)).toMatchObject({ level: 'good', lossPercent: 0, receiveKbps: 0, sendKbps: 0 });
  });
});
