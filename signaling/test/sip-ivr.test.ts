// Dial-in through the IVR against the real server: a caller (our SIP user agent with its own RTP
// ports) dials sip:ivr@host, hears the prompt, types the meeting number as RFC 4733 DTMF ending in
// '#' (and the meeting's PIN, when it has one), and is in the meeting; any other user reaches the IVR
// too, and three wrong numbers get a BYE.
import { createOffer, MediaPorts, readAnswer, SipUserAgent, type CallEndReason, type SipCall } from '@cityconf/cascade';
import { liveFfmpegCount } from '@cityconf/sfu';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DtmfSender } from '../../cascade/src/media/DtmfSender.js';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import type { ServerEventName, ServerEvents } from '../src/protocol.js';
import { onEvent, type TestClient } from './client.js';
import { serverForFile } from './harness.js';

const { server, joined } = serverForFile();
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
/** The callers' RTP ports, apart from the other SIP tests'. */
const CALLER_PORTS = { min: 46_920, max: 46_999 };

function collect<E extends ServerEventName>(client: TestClient, event: E): ServerEvents[E][] {
  const seen: ServerEvents[E][] = [];
  onEvent(client, event, (payload) => seen.push(payload));
  return seen;
}

interface Caller {
  call: SipCall;
  dtmf: DtmfSender;
  /** Audio RTP packets from the server (the prompts, then the meeting's mix). */
  heard: Buffer[];
  ended: Promise<CallEndReason>;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A phone-like terminal (PCMA and telephone-event) dialling `user`@ the server. */
async function dial(user: string): Promise<Caller> {
  const ua = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], logger, contactUser: 'phone' });
  cleanups.push(() => ua.close());
  const ports = await MediaPorts.allocate({ address: '127.0.0.1', ports: CALLER_PORTS });
  cleanups.push(() => ports.close());
  const offer = createOffer({ address: '127.0.0.1', audio: { port: ports.audioPort, codecs: ['PCMA'] } });
  const { port } = server().sip!.local('udp');
  const call = await ua.invite(`sip:${user}@127.0.0.1:${port}`, offer.sdp, { from: 'sip:phone-7@127.0.0.1', displayName: '乡镇电话' });
  const negotiation = readAnswer(offer, call.remoteSdp!);
  ports.setPeer(negotiation);
  const heard: Buffer[] = [];
  ports.on('rtp', (kind, packet) => kind === 'audio' && heard.push(packet));
  const dtmf = new DtmfSender(negotiation.audio!, ports);
  cleanups.push(() => dtmf.close());
  const ended = new Promise<CallEndReason>((resolve) => call.once('ended', resolve));
  return { call, dtmf, heard, ended };
}

describe('SIP dial-in through the IVR', () => {
  it('takes the meeting number typed as RFC 4733 DTMF ending in # and puts the caller into that meeting', async () => {
    const chair = await joined('ivr-room', 'chair-unit', 'chair');
    const number = server().store.meetings.get('ivr-room')!.number;
    const joinedEvents = collect(chair, 'participantJoined');
    const leftEvents = collect(chair, 'participantLeft');

    const caller = await dial('ivr');
    await expect.poll(() => caller.heard.length, { timeout: 10_000 }).toBeGreaterThan(25); // half a second of 请输入会议号
    await caller.dtmf.send(`${number}#`);
    await expect.poll(() => joinedEvents.find(({ participant }) => participant.name === '乡镇电话'), { timeout: 20_000 }).toBeTruthy();
    const { participant } = joinedEvents.find(({ participant }) => participant.name === '乡镇电话')!;
    expect(participant).toMatchObject({ role: 'terminal', attributes: { unit: 'SIP 终端' } });
    expect(server().sfu.meeting('ivr-room')!.participants.has(participant.id)).toBe(true);
    expect(server().sip!.legCount).toBe(1);

    await caller.call.hangup();
    await expect.poll(() => leftEvents.some(({ participantId }) => participantId === participant.id), { timeout: 10_000 }).toBe(true);
    expect(server().sip!.legCount).toBe(0);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
  }, 60_000);

  it("asks for the meeting's PIN when it has one, again after a wrong one, and lets the right one in", async () => {
    const headers = { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, 'content-type': 'application/json' };
    const created = await fetch(`${server().url}/api/meetings`, { method: 'POST', headers, body: JSON.stringify({ id: 'ivr-pin', title: '带密码的会', pin: '2468' }) });
    expect(created.status).toBe(201);
    const { number } = (await created.json()) as { number: number };

    const caller = await dial('ivr');
    await expect.poll(() => caller.heard.length, { timeout: 10_000 }).toBeGreaterThan(25);
    await caller.dtmf.send(`${number}#`);
    await new Promise((resolve) => setTimeout(resolve, 800));
    await caller.dtmf.send('1357#');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(server().sip!.legCount).toBe(0);
    await caller.dtmf.send('2468#');
    await expect.poll(() => server().sip!.legs('ivr-pin').find(({ state }) => state === 'connected'), { timeout: 20_000 }).toBeTruthy();
    expect(server().sip!.legs('ivr-pin')[0]).toMatchObject({ direction: 'in', name: '乡镇电话' });
    await caller.call.hangup();
    await expect.poll(() => server().sip!.legCount, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
  }, 60_000);

  it('answers any other user with the IVR, and hangs up after three wrong meeting numbers', async () => {
    const caller = await dial('hello');
    await expect.poll(() => caller.heard.length, { timeout: 10_000 }).toBeGreaterThan(25);
    for (const wrong of ['11111111#', '123#', '99999999#']) {
      await caller.dtmf.send(wrong);
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
    expect(await caller.ended).toBe('remote-bye');
    expect(server().sip!.legCount).toBe(0);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
  }, 60_000);
});
