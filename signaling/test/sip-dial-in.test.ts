// Dial-in over SIP into a running meeting: sipp plays an MCU calling the meeting's number (two
// H.264 payload types, INFO key frame request, hold, BYE); the meeting sees it join as a
// participant with H.264 video (copied, not re-encoded) and audio, and leave. Numbers that lead
// nowhere and terminals that are not invited are refused with a SIP status that says why.
import { SipRequestError, SipUserAgent, createOffer } from '@cityconf/cascade';
import { liveFfmpegCount } from '@cityconf/sfu';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runSipp } from '../../cascade/test/sipp.js';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import type { ServerEventName, ServerEvents } from '../src/protocol.js';
import { onEvent, type TestClient } from './client.js';
import { serverForFile } from './harness.js';

const { server, joined } = serverForFile();
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });


function collect<E extends ServerEventName>(client: TestClient, event: E): ServerEvents[E][] {
  const seen: ServerEvents[E][] = [];
  onEvent(client, event, (payload) => seen.push(payload));
  return seen;
}


describe('SIP dial-in', () => {
  it('puts an MCU dialling the meeting number into the meeting, with its video and audio, until it hangs up', async () => {
    const chair = await joined('sip-room', 'chair-unit', 'chair');
    const number = server().store.meetings.get('sip-room')!.number;
    const joinedEvents = collect(chair, 'participantJoined');
    const leftEvents = collect(chair, 'participantLeft');
    const { port } = server().sip!.local('udp');

    const sipp = runSipp('invite-two-h264.xml', ['-s', String(number), `127.0.0.1:${port}`, '-p', '0', '-mp', '46900']);
    await expect.poll(() => joinedEvents.find(({ participant }) => participant.name === '省视频会议主会场'), { timeout: 15_000 }).toBeTruthy();
    const { participant } = joinedEvents.find(({ participant }) => participant.name === '省视频会议主会场')!;
    expect(participant).toMatchObject({ role: 'terminal', attributes: { unit: 'SIP 终端' } });
    expect(participant.producers.map((producer) => producer.kind).sort()).toEqual(['audio', 'video']);
    const legProducers = [...server().sfu.meeting('sip-room')!.participants.get(participant.id)!.producers.values()];
    expect(legProducers.find((producer) => producer.kind === 'video')!.rtpParameters.codecs[0]!.mimeType).toBe('video/H264');

    const result = await sipp.result;
    expect(result.code, result.errors || result.output).toBe(0);
    await expect.poll(() => leftEvents.some(({ participantId }) => participantId === participant.id), { timeout: 10_000 }).toBe(true);
    expect(server().sfu.meeting('sip-room')!.participants.has(participant.id)).toBe(false);
    expect(server().sip!.legCount).toBe(0);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0); // the leg's ffmpegs went with it
  }, 60_000);

  it.each([
    { scenario: 'invite-avpf.xml', name: '县视频会议室', kinds: ['audio', 'video'] },
    { scenario: 'invite-audio-only.xml', name: '乙镇电话', kinds: ['audio'] },
  ])('takes other offer shapes ($scenario): the site joins with what it offered, and leaves on BYE', async ({ scenario, name, kinds }) => {
    const chair = await joined('sip-shapes', 'chair-unit', 'chair');
    const joinedEvents = collect(chair, 'participantJoined');
    const leftEvents = collect(chair, 'participantLeft');
    const number = server().store.meetings.get('sip-shapes')!.number;
    const { port } = server().sip!.local('udp');
    const sipp = runSipp(scenario, ['-s', String(number), `127.0.0.1:${port}`, '-p', '0', '-mp', '46920']);
    await expect.poll(() => joinedEvents.find(({ participant }) => participant.name === name), { timeout: 15_000 }).toBeTruthy();
    const { participant } = joinedEvents.find(({ participant }) => participant.name === name)!;
    expect(participant.producers.map((producer) => producer.kind).sort()).toEqual(kinds);
    const result = await sipp.result;
    expect(result.code, result.errors || result.output).toBe(0); // the answer's m-lines were what the scenario checks
    await expect.poll(() => leftEvents.some(({ participantId }) => participantId === participant.id), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
  }, 60_000);

  it('refuses a number that leads nowhere, an ended meeting and a terminal that is not invited', async () => {
    const caller = await SipUserAgent.start({ transports: [{ protocol: 'udp', port: 0 }], logger });
    try {
      const { port } = server().sip!.local('udp');
      const offer = createOffer({ address: '127.0.0.1', audio: { port: 46_910 }, video: { port: 46_912 } });
      const status = async (user: string): Promise<number> => {
        try {
          const call = await caller.invite(`sip:${user}@127.0.0.1:${port}`, offer.sdp, { from: 'sip:terminal@127.0.0.1', displayName: '某终端' });
          await call.hangup();
          return 200;
        } catch (error) {
          if (error instanceof SipRequestError) return error.status;
          throw error;
        }
      };
      expect(await status('99999999')).toBe(404);
      expect(await status('hello')).toBe(200); // any other user: the IVR answers (sip-ivr.test.ts)

      // A scheduled meeting takes only its invited units' terminals.
      const headers = { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, 'content-type': 'application/json' };
      await fetch(`${server().url}/api/units`, { method: 'POST', headers, body: JSON.stringify({ id: 'city', name: '某某市', level: 'city', parentId: null }) });
      const created = await fetch(`${server().url}/api/meetings`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id: 'invited-only', title: '调度会', chairUnitId: 'city', invite: { units: ['city'] } }),
      });
      const scheduled = await created.json();
      expect(await status(String(scheduled.number))).toBe(403);
      await fetch(`${server().url}/api/meetings/invited-only/end`, { method: 'POST', headers });
      expect(await status(String(scheduled.number))).toBe(480);
    } finally {
      await caller.close();
    }
  }, 60_000);
});
