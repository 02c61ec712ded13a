// SIP over TLS (RFC 3261 §26.2): a call between two of our user agents over a TLS connection
// (OpenSSL through Node), Contact and Via saying TLS, DTMF and BYE on the same connection; a peer
// whose certificate we do not trust is not called.
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { answerOffer, createOffer, type LocalMedia } from '../src/sdp/index.js';
import { SipRequestError } from '../src/ua/errors.js';
import { SipUserAgent } from '../src/ua/SipUserAgent.js';
import { freePort } from './sipp.js';
import { selfSignedCertificate } from './tls.js';

const LOCAL: LocalMedia = { address: '127.0.0.1', audio: { port: 40000 }, video: { port: 40002 } };
const logger = pino({ level: process.env['SIP_LOG_LEVEL'] ?? 'silent' });
const certificate = selfSignedCertificate();
afterAll(() => certificate.remove());

const open: SipUserAgent[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((ua) => ua.close()));
});

describe('SIP over TLS', () => {
  it('calls over TLS: the INVITE, the answer, DTMF by INFO and the BYE on one encrypted connection', async () => {
    const callee = await SipUserAgent.start({ transports: [{ protocol: 'tls', host: '127.0.0.1', port: await freePort() }], logger, tls: { key: certificate.key, cert: certificate.cert } });
    open.push(callee);
    const seen: { contact?: string; via?: string; keys: string[]; ended: string[] } = { keys: [], ended: [] };
    callee.onInvite((incoming) => {
      seen.contact = incoming.request.headers.get('Contact');
      seen.via = incoming.request.headers.get('Via');
      const call = incoming.accept(answerOffer(incoming.offer ?? '', LOCAL).sdp);
      call.on('dtmf', (key) => seen.keys.push(key));
      call.on('ended', (reason) => seen.ended.push(reason));
    });
    const caller = await SipUserAgent.start({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: await freePort() }, { protocol: 'tls', host: '127.0.0.1', port: await freePort() }],
      logger,
      tls: { key: certificate.key, cert: certificate.cert, ca: certificate.cert },
    });
    open.push(caller);
    const { port } = callee.local('tls');
    const call = await caller.invite(`sip:room@127.0.0.1:${port};transport=tls`, createOffer(LOCAL).sdp);
    expect(call.dialog.destination().protocol).toBe('tls');
    expect(seen.via).toMatch(/^SIP\/2\.0\/TLS /);
    expect(seen.contact).toMatch(/;transport=tls>$/);
    await call.sendDtmf('8#');
    expect(seen.keys).toEqual(['8', '#']);
    await call.hangup();
    expect(seen.ended).toEqual(['remote-bye']);
  });

  it('does not call a peer whose certificate it does not trust', async () => {
    const callee = await SipUserAgent.start({ transports: [{ protocol: 'tls', host: '127.0.0.1', port: await freePort() }], logger, tls: { key: certificate.key, cert: certificate.cert } });
    open.push(callee);
    let invited = false;
    callee.onInvite(() => void (invited = true));
    const caller = await SipUserAgent.start({ transports: [{ protocol: 'tls', host: '127.0.0.1', port: await freePort() }], logger, tls: { key: certificate.key, cert: certificate.cert } });
    open.push(caller);
    const attempt = caller.invite(`sips:room@127.0.0.1:${callee.local('tls').port}`, createOffer(LOCAL).sdp);
    await expect(attempt).rejects.toThrow(SipRequestError);
    await expect(attempt).rejects.toMatchObject({ status: 503 });
    expect(invited).toBe(false);
  });
});
