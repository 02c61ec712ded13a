// The SIP user agent against sipp: MCUs and terminals calling us (UAS), an MCU answering us (UAC),
// a registrar, and session timers, each scenario passing only when sipp exits 0.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { answerOffer, createOffer, NoCommonCodecError, readAnswer, type LocalMedia, type Negotiation } from '../src/sdp/index.js';
import { SipRequestError } from '../src/ua/errors.js';
import type { IncomingCall } from '../src/ua/IncomingCall.js';
import type { CallEndReason, SipCall } from '../src/ua/SipCall.js';
import { SipUserAgent, type SipUserAgentOptions } from '../src/ua/SipUserAgent.js';
import { freePort, runSipp } from './sipp.js';

const LOCAL: LocalMedia = { address: '127.0.0.1', audio: { port: 40000 }, video: { port: 40002 } };
const logger = pino({ level: process.env['SIP_LOG_LEVEL'] ?? 'silent' });

/** What the application saw of the calls sipp made. */
interface Seen {
  invites: IncomingCall[];
  cancelled: number;
  keyframeRequests: number;
  holdOffers: string[];
  sessionRefreshes: number;
  ended: CallEndReason[];
  calls: SipCall[];
}

const open: SipUserAgent[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((ua) => ua.close()));
});

async function startUas(options: Partial<SipUserAgentOptions> & { answer?: boolean } = {}): Promise<{ ua: SipUserAgent; port: number; seen: Seen }> {
  const port = await freePort();
  const ua = await SipUserAgent.start({
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port },
      { protocol: 'tcp', host: '127.0.0.1', port },
    ],
    logger,
    ...options,
  });
  open.push(ua);
  const seen: Seen = { invites: [], cancelled: 0, keyframeRequests: 0, holdOffers: [], sessionRefreshes: 0, ended: [], calls: [] };
  ua.onInvite((incoming) => {
    seen.invites.push(incoming);
    incoming.signal.addEventListener('abort', () => seen.cancelled++);
    if (options.answer === false) return;
    let negotiation: Negotiation;
    try {
      negotiation = answerOffer(incoming.offer ?? '', LOCAL);
    } catch (error) {
      if (!(error instanceof NoCommonCodecError)) throw error;
      incoming.reject(488, undefined, [['Warning', `399 127.0.0.1 "${error.warning}"`]]);
      return;
    }
    const call = incoming.accept(negotiation.sdp);
    seen.calls.push(call);
    call.on('keyframeRequest', () => seen.keyframeRequests++);
    call.on('sessionRefreshed', () => seen.sessionRefreshes++);
    call.on('ended', (reason) => seen.ended.push(reason));
    call.on('reinvite', (offer) => {
      seen.holdOffers.push(offer.offer ?? '');
      negotiation = answerOffer(offer.offer ?? '', LOCAL, negotiation);
      offer.accept(negotiation.sdp);
    });
  });
  return { ua, port, seen };
}

async function sippAgainst(port: number, scenario: string, extra: string[] = []) {
  const sippPort = await freePort();
  const mediaPort = await freePort();
  return runSipp(scenario, ['127.0.0.1:' + port, '-s', '52718390', '-p', String(sippPort), '-mp', String(mediaPort), ...extra]).result;
}

function expectPass(result: { code: number | null; output: string; errors: string }): void {
  expect(result.errors, result.output).toBe('');
  expect(result.code, result.output).toBe(0);
}

describe('SipUserAgent as UAS (sipp calls us)', () => {
  it('answers an MCU offering two H.264 payload types, takes its key frame request and hold re-INVITE, and its BYE (UDP)', async () => {
    const { port, seen } = await startUas();
    expectPass(await sippAgainst(port, 'invite-two-h264.xml'));
    expect(seen.keyframeRequests).toBe(1);
    expect(seen.holdOffers).toHaveLength(1);
    expect(seen.holdOffers[0]).toContain('a=sendonly');
    expect(seen.ended).toEqual(['remote-bye']);
  });

  it('runs the same call over TCP (sipp -t t1)', async () => {
    const { port, seen } = await startUas();
    expectPass(await sippAgainst(port, 'invite-two-h264.xml', ['-t', 't1']));
    expect(seen.keyframeRequests).toBe(1);
    expect(seen.ended).toEqual(['remote-bye']);
  });

  it('refuses an offer with no common codec with 488 and a Warning', async () => {
    const { port, seen } = await startUas();
    expectPass(await sippAgainst(port, 'invite-488.xml'));
    expect(seen.invites).toHaveLength(1);
    expect(seen.calls).toHaveLength(0);
  });

  it('answers CANCEL with 200 and the INVITE with 487, and aborts the application signal', async () => {
    const { port, seen } = await startUas({ answer: false });
    expectPass(await sippAgainst(port, 'invite-cancel.xml'));
    expect(seen.cancelled).toBe(1);
    expect(seen.invites[0]?.signal.aborted).toBe(true);
  });

  it('refuses a short session interval with 422 Min-SE: 90, then takes 90;refresher=uac and its UPDATE refresh', async () => {
    const { port, seen } = await startUas();
    expectPass(await sippAgainst(port, 'session-timer.xml'));
    expect(seen.invites).toHaveLength(1);
    expect(seen.calls[0]?.sessionInterval).toEqual({ seconds: 90, refresher: 'remote' });
    expect(seen.sessionRefreshes).toBeGreaterThanOrEqual(1);
    expect(seen.ended).toEqual(['remote-bye']);
  });

  it('hangs up with BYE when the refresher never refreshes (timers shortened: 1 s = 20 ms)', async () => {
    const { port, seen } = await startUas({ sessionTimers: { secondMs: 20 } });
    const started = Date.now();
    expectPass(await sippAgainst(port, 'session-expiry.xml'));
    expect(seen.ended).toEqual(['session-expired']);
    // 90 s − min(32, 30) s = 60 "seconds" of 20 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
  });
});

describe('SipUserAgent as UAC (sipp answers as an upper MCU)', () => {
  async function startUac(): Promise<SipUserAgent> {
    const ua = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: await freePort() }], logger });
    open.push(ua);
    return ua;
  }

  it('calls with proxy digest, ACKs, sends DTMF as INFO and hangs up', async () => {
    const ua = await startUac();
    const sippPort = await freePort();
    const sipp = runSipp('mcu-answer.xml', ['-p', String(sippPort), '-mp', String(await freePort()), '-set', 'user', 'county', '-set', 'password', 's3cret']);
    const offer = createOffer(LOCAL);
    const call = await ua.invite(`sip:mcu@127.0.0.1:${sippPort}`, offer.sdp, { credentials: { username: 'county', password: 's3cret' } });
    const negotiation = readAnswer(offer, call.remoteSdp ?? '');
    expect(negotiation.video?.payloadType).toBe(109);
    expect(negotiation.audio?.codec.name).toBe('PCMA');
    await call.sendDtmf('1');
    await call.hangup();
    expect(call.endReason).toBe('local-hangup');
    expectPass(await sipp.result);
  });

  it('sends an INVITE larger than 1300 bytes over TCP (RFC 3261 §18.1.1), and over UDP when the peer takes no TCP', async () => {
    const port = await freePort();
    const ua = await SipUserAgent.start({
      transports: [
        { protocol: 'udp', host: '127.0.0.1', port },
        { protocol: 'tcp', host: '127.0.0.1', port },
      ],
      logger,
    });
    open.push(ua);
    // Digest credentials and a long header make the INVITE about 1.8 kB.
    const big = { credentials: { username: 'county', password: 's3cret' }, headers: [['X-Site-Description', 'x'.repeat(400)]] as [string, string][] };
    for (const sippTransport of ['t1', 'u1']) {
      const sippPort = await freePort();
      const sipp = runSipp('mcu-answer.xml', ['-t', sippTransport, '-p', String(sippPort), '-mp', String(await freePort()), '-set', 'user', 'county', '-set', 'password', 's3cret']);
      await new Promise((resolve) => setTimeout(resolve, 300)); // sipp listening
      const call = await ua.invite(`sip:mcu@127.0.0.1:${sippPort}`, createOffer(LOCAL).sdp, big);
      expect(call.dialog.destination().protocol, `sipp -t ${sippTransport}`).toBe(sippTransport === 't1' ? 'tcp' : 'udp');
      await call.sendDtmf('1');
      await call.hangup();
      expectPass(await sipp.result);
    }
  });

  it('rejects with a SipRequestError carrying 403 when the password is wrong', async () => {
    const ua = await startUac();
    const sippPort = await freePort();
    const sipp = runSipp('mcu-answer.xml', ['-p', String(sippPort), '-mp', String(await freePort()), '-set', 'user', 'county', '-set', 'password', 's3cret']);
    const attempt = ua.invite(`sip:mcu@127.0.0.1:${sippPort}`, createOffer(LOCAL).sdp, { credentials: { username: 'county', password: 'wrong' } });
    await expect(attempt).rejects.toThrow(SipRequestError);
    await expect(attempt).rejects.toMatchObject({ status: 403, message: 'INVITE failed: 403 Forbidden' });
    const result = await sipp.result;
    expect(result.code, result.output).toBe(0);
  });
});

describe('Registration (sipp as registrar)', () => {
  it('registers with digest, refreshes a 4 s binding within 6 s, and unregisters on close', async () => {
    const ua = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: await freePort() }], logger });
    open.push(ua);
    const sippPort = await freePort();
    const sipp = runSipp('registrar.xml', ['-p', String(sippPort), '-mp', String(await freePort()), '-set', 'user', 'town-7', '-set', 'password', 'pw7']);
    const registration = ua.register({ registrar: `sip:127.0.0.1:${sippPort}`, username: 'town-7', password: 'pw7', expires: 600 });
    const granted: number[] = [];
    await new Promise<void>((resolve, reject) => {
      registration.on('registered', (expires) => {
        granted.push(expires);
        if (granted.length === 2) resolve();
      });
      registration.on('failed', reject);
    });
    expect(granted).toEqual([4, 60]);
    expectPass(await sipp.result);
  });
});
