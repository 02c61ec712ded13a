// RTP and DTLS parameters shaped like what mediasoup-client sends from Chromium.
export const fakeDtlsParameters = {
  role: 'client',
  fingerprints: [
    {
      algorithm: 'sha-256',
      value: '82:5A:68:3D:36:C3:0A:DE:AF:E7:32:43:D2:88:83:57:AC:2D:65:E5:80:C4:B6:FB:AF:1A:A0:21:9F:6D:0C:AD',
    },
  ],
};

export function opusParameters(ssrc: number) {
  return {
    mid: '0',
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1 },
        rtcpFeedback: [{ type: 'transport-cc' }],
      },
    ],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4 }],
    encodings: [{ ssrc, dtx: false }],
    rtcp: { cname: 'test-cname', reducedSize: true },
  };
}

export function vp8Parameters(ssrc: number) {
  return {
    mid: '1',
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: 96,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [
          { type: 'goog-remb' },
          { type: 'transport-cc' },
          { type: 'ccm', parameter: 'fir' },
          { type: 'nack' },
          { type: 'nack', parameter: 'pli' },
        ],
      },
      { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
    ],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4 }],
    encodings: [
      { ssrc, rtx: { ssrc: ssrc + 1 }, scalabilityMode: 'L1T3', maxBitrate: 100000 },
      { ssrc: ssrc + 2, rtx: { ssrc: ssrc + 3 }, scalabilityMode: 'L1T3', maxBitrate: 300000 },
      { ssrc: ssrc + 4, rtx: { ssrc: ssrc + 5 }, scalabilityMode: 'L1T3', maxBitrate: 900000 },
    ],
    rtcp: { cname: 'test-cname', reducedSize: true },
  };
}
