import type { SipLegStatus } from '@cityconf/signaling/protocol';
import { describe, expect, it } from 'vitest';
import { activeLegFor, clockTime, codecText, isActiveLeg, lossText, rateText } from '../src/lib/sipLegText';

function leg(changes: Partial<SipLegStatus> = {}): SipLegStatus {
  return {
    id: 'leg-1',
    meetingId: 'city-weekly',
    direction: 'out',
    kind: 'mcu',
    name: '省视频会议平台',
    uri: 'sip:9000@10.1.1.1',
    targetId: 'province',
    unitId: null,
    participantId: null,
    state: 'connected',
    since: 0,
    connectedSince: 0,
    error: null,
    attempt: 0,
    nextAttemptAt: null,
    audio: null,
    video: null,
    rxKbps: 0,
    txKbps: 0,
    lossPct: 0,
    ...changes,
  };
}

describe('SIP leg text', () => {
  it('names the negotiated codecs as people know them', () => {
    expect(codecText(leg())).toBeNull();
    expect(codecText(leg({ video: { codec: 'H264', profileLevelId: '42e01f', srtp: false }, audio: { codec: 'G722', clockRate: 8000, srtp: false } }))).toBe(
      'H.264 42e01f · G.722',
    );
    expect(codecText(leg({ audio: { codec: 'PCMA', clockRate: 8000, srtp: true } }))).toBe('G.711A · SRTP');
    expect(codecText(leg({ video: { codec: 'h264', profileLevelId: null, srtp: false }, audio: { codec: 'opus', clockRate: 48000, srtp: false } }))).toBe('H.264 · Opus');
    expect(codecText(leg({ audio: { codec: 'AMR-WB', clockRate: 16000, srtp: false } }))).toBe('AMR-WB');
  });

  it('writes rates and loss', () => {
    expect(rateText(leg({ rxKbps: 1980.4, txKbps: 2010.6 }))).toBe('↓1980 ↑2011 kbps');
    expect(lossText(0)).toBe('0.0%');
    expect(lossText(0.44)).toBe('0.4%');
    expect(lossText(12.6)).toBe('13%');
    expect(lossText(-1)).toBe('0.0%');
  });

  it('reads the clock time of the next redial', () => {
    expect(clockTime(new Date(2026, 2, 1, 14, 3, 5).getTime())).toBe('14:03:05');
    expect(clockTime(new Date(2026, 2, 1, 0, 0, 9).getTime())).toBe('00:00:09');
  });

  it('finds the active leg of a target or terminal', () => {
    const legs = [
      leg({ id: 'old', state: 'failed' }),
      leg({ id: 'mcu', state: 'redialing' }),
      leg({ id: 'room', kind: 'terminal', targetId: null, unitId: 'county-a', state: 'calling' }),
    ];
    expect(activeLegFor(legs, { targetId: 'province' })?.id).toBe('mcu');
    expect(activeLegFor(legs, { unitId: 'county-a' })?.id).toBe('room');
    expect(activeLegFor(legs, { unitId: 'county-b' })).toBeUndefined();
    expect(legs.map(isActiveLeg)).toEqual([false, true, true]);
    expect(isActiveLeg(leg({ state: 'ended' }))).toBe(false);
  });
});
