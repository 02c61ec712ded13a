import { describe, expect, it } from 'vitest';
import { meetingIdSchema, requestSchemas } from '../src/protocol-schemas.js';
import { fakeDtlsParameters, opusParameters } from './fixtures.js';

const accepts = (name: keyof typeof requestSchemas, payload: unknown) => requestSchemas[name].safeParse(payload).success;

describe('protocol request schemas', () => {
  it('accepts well-formed requests', () => {
    expect(accepts('join', { meetingId: 'city-2026_11.plenary', token: 'a.b.c' })).toBe(true);
    expect(accepts('createTransport', { direction: 'recv' })).toBe(true);
    expect(accepts('connectTransport', { transportId: 't1', dtlsParameters: fakeDtlsParameters })).toBe(true);
    expect(accepts('produce', { transportId: 't1', kind: 'audio', rtpParameters: opusParameters(1), source: 'microphone' })).toBe(true);
    expect(accepts('setPreferredLayers', { consumerId: 'c1', spatialLayer: 2 })).toBe(true);
    expect(accepts('leave', {})).toBe(true);
  });

  it('rejects meeting ids that cannot sit in a URL', () => {
    for (const bad of ['', 'a b', '../etc', 'x'.repeat(65), '会议']) {
      expect(meetingIdSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('rejects missing, mistyped and unexpected fields', () => {
    expect(accepts('join', { meetingId: 'm1' })).toBe(false);
    expect(accepts('join', { meetingId: 'm1', token: 42 })).toBe(false);
    expect(accepts('join', { meetingId: 'm1', token: 't', admin: true })).toBe(false);
    expect(accepts('join', 'm1')).toBe(false);
    expect(accepts('createTransport', { direction: 'both' })).toBe(false);
    expect(accepts('setPreferredLayers', { consumerId: 'c1', spatialLayer: -1 })).toBe(false);
    expect(accepts('consume', { producerId: '' })).toBe(false);
  });

  it('rejects RTP parameters that are not RTP parameters', () => {
    const produce = (rtpParameters: unknown) =>
      accepts('produce', { transportId: 't1', kind: 'video', rtpParameters, source: 'camera' });
    expect(produce({ codecs: [] })).toBe(false);
    expect(produce({ codecs: [{ mimeType: 'video/VP8', payloadType: 300, clockRate: 90000 }] })).toBe(false);
    expect(produce({ codecs: [{ mimeType: 'nonsense', payloadType: 96, clockRate: 90000 }] })).toBe(false);
    expect(produce('rtp')).toBe(false);
  });

  it('rejects DTLS parameters without fingerprints', () => {
    expect(accepts('connectTransport', { transportId: 't1', dtlsParameters: { role: 'client', fingerprints: [] } })).toBe(false);
    expect(accepts('connectTransport', { transportId: 't1', dtlsParameters: { role: 'boss', fingerprints: fakeDtlsParameters.fingerprints } })).toBe(false);
  });
});
