// The meeting's active speaker and audible set come from an AudioLevelObserver per router over
// the microphones produced there. Two microphones are fed RTP built here (Opus payload type,
// RFC 6464 audio level header extension) through a DirectTransport: the loud one becomes the
// speaker, then the other, on one worker and across two.
import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { Sfu, type mediasoupTypes as ms } from '../src/index.js';
import { testSfuConfig } from './config.js';
import { microphone, talkUntil } from './microphones.js';

const config = testSfuConfig(41000);

let sfu: Sfu | undefined;
afterEach(() => sfu?.close());

it('follows the loudest microphone and forgets a speaker who leaves', async () => {
  sfu = await Sfu.create(config, pino({ level: 'silent' }));
  const meeting = await sfu.openMeeting('speakers');
  expect(meeting.activeSpeakerId).toBeNull();
  meeting.addParticipant('alice');
  const bob = meeting.addParticipant('bob');
  const transport = await meeting.router.createDirectTransport();
  const alice = await microphone(transport, 'alice', 1111);
  const bobMic = await microphone(transport, 'bob', 2222);
  meeting.producerAdded(alice);
  meeting.producerAdded(bobMic);

  const seq = { n: 0 };
  const changes: Array<string | null> = [];
  meeting.on('activespeaker', (participantId) => changes.push(participantId));
  await talkUntil(meeting, 'alice', alice, bobMic, seq);
  await talkUntil(meeting, 'bob', bobMic, alice, seq);
  expect(changes.at(-1)).toBe('bob');
  expect(changes).toContain('alice');

  const nobody = once(meeting, 'activespeaker');
  bob.close();
  expect(await nobody).toEqual([null]);
  expect(meeting.activeSpeakerId).toBeNull();
}, 20_000);

it('hears microphones on two workers: one speaker and the audible set across routers', async () => {
  sfu = await Sfu.create(testSfuConfig(41000, 2), pino({ level: 'silent' }));
  const meeting = await sfu.openMeeting('two-workers', { audibleSize: 2 });
  const alice = meeting.addParticipant('alice');
  const bob = meeting.addParticipant('bob');
  meeting.addParticipant('carol');
  const [aliceRouter, bobRouter] = await Promise.all([alice.placement.router, bob.placement.router]);
  expect(aliceRouter).not.toBe(bobRouter);
  const microphones: ms.Producer[] = [];
  for (const [router, participantId, ssrc] of [[aliceRouter, 'alice', 1111], [bobRouter, 'bob', 2222]] as const) {
    const producer = await microphone(await router.createDirectTransport(), participantId, ssrc);
    meeting.producerAdded(producer, router);
    microphones.push(producer);
  }
  const [aliceMic, bobMic] = microphones as [ms.Producer, ms.Producer];

  const audible: Array<{ ids: string[]; at: number }> = [];
  meeting.on('audiblechange', (ids) => audible.push({ ids, at: Date.now() }));
  const seq = { n: 0 };
  await talkUntil(meeting, 'alice', aliceMic, bobMic, seq);
  await talkUntil(meeting, 'bob', bobMic, aliceMic, seq);
  await expect.poll(() => meeting.audibleIds).toEqual(['bob', 'alice']);
  expect(audible.map((change) => change.ids)).toEqual([['alice'], ['bob', 'alice']]);
  expect(audible[1]!.at - audible[0]!.at).toBeGreaterThanOrEqual(290);

  bob.close();
  expect(meeting.activeSpeakerId).toBeNull();
  expect(meeting.audibleIds).toEqual(['alice']);
}, 20_000);
