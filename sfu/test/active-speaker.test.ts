// The meeting's active speaker comes from mediasoup's ActiveSpeakerObserver over every microphone.
// Two microphones are fed RTP built here (Opus payload type, RFC 6464 audio level header
// extension) through a DirectTransport: the loud one becomes the speaker, then the other.
import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { Sfu } from '../src/index.js';
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
