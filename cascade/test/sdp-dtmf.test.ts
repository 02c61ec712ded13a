// RFC 4733 telephone events: the 4-byte payload and the event lists of `a=fmtp:<pt> 0-15`.
import { describe, expect, it } from 'vitest';
import { decodeTelephoneEvent, DTMF_KEYS, dtmfEvent, encodeTelephoneEvent, formatEventList, parseEventList } from '../src/sdp/index.js';

describe('telephone-event payload', () => {
  it('encodes the RFC 4733 layout: event, E bit, volume, duration', () => {
    expect(encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 800 }).toString('hex')).toBe('058a0320');
    expect(encodeTelephoneEvent({ event: 11, end: false, volume: 63, duration: 0xffff }).toString('hex')).toBe('0b3fffff');
  });

  it('decodes what it encodes for every DTMF key, ignoring the R bit and bytes past the first event', () => {
    for (const key of DTMF_KEYS) {
      for (const end of [false, true]) {
        const event = { event: dtmfEvent(key), end, volume: 10, duration: 1280 };
        expect(decodeTelephoneEvent(encodeTelephoneEvent(event))).toEqual(event);
      }
    }
    expect(decodeTelephoneEvent(Uint8Array.from([0x0a, 0xc5, 0x01, 0x40, 0xff]))).toEqual({ event: 10, end: true, volume: 5, duration: 320 });
    const inside = Buffer.from([0, 0, 0x03, 0x8a, 0x00, 0xa0]).subarray(2);
    expect(decodeTelephoneEvent(inside)).toEqual({ event: 3, end: true, volume: 10, duration: 160 });
  });

  it('refuses values that do not fit and payloads too short', () => {
    expect(() => encodeTelephoneEvent({ event: 256, end: false, volume: 0, duration: 0 })).toThrow(RangeError);
    expect(() => encodeTelephoneEvent({ event: 1, end: false, volume: 64, duration: 0 })).toThrow(RangeError);
    expect(() => encodeTelephoneEvent({ event: 1, end: false, volume: 0, duration: 65536 })).toThrow(RangeError);
    expect(() => decodeTelephoneEvent(new Uint8Array(3))).toThrow(RangeError);
  });

  it('maps DTMF keys to event codes', () => {
    expect([...'0123456789*#ABCD'].map(dtmfEvent)).toEqual([...Array(16).keys()]);
    expect(dtmfEvent('d')).toBe(15);
    expect(() => dtmfEvent('E')).toThrow(/not a DTMF key/);
    expect(() => dtmfEvent('12')).toThrow(RangeError);
  });
});

describe('telephone-event fmtp', () => {
  it('reads and writes event lists with ranges', () => {
    expect(parseEventList('0-15')).toEqual([...Array(16).keys()]);
    expect(parseEventList('0-11, 16,14-15,70')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 70]);
    expect(formatEventList([15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 66, 70, 71])).toBe('0-15,66,70-71');
    expect(formatEventList([])).toBe('');
    for (const bad of ['', '0-', '15-0', 'a', '0-256', '1;2']) expect(parseEventList(bad), bad).toBeUndefined();
  });
});
