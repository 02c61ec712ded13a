// A mediasoup worker process killed mid-meeting: the pool replaces it and new meetings start on it;
// a meeting on several workers loses only the participants of the dead one.
import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Sfu } from '../src/index.js';
import { testSfuConfig } from './config.js';
import { closeSockets, plainMicrophone, plainSink } from './plainRtp.js';

const config = testSfuConfig(40000);

let sfu: Sfu | undefined;
afterEach(() => {
  closeSockets();
  sfu?.close();
});

describe('worker crash', () => {
  it('closes the meetings of a killed worker, replaces the worker, and opens new meetings on it', async () => {
    sfu = await Sfu.create(config, pino({ level: 'silent' }));
    const meeting = await sfu.openMeeting('before-crash');
    const participant = meeting.addParticipant('p1');
    await participant.createTransport('recv');
    const [victim] = sfu.pool.workers;
    expect(victim).toBeDefined();

    const meetingClosed = once(meeting, 'close');
    const replaced = once(sfu.pool, 'workerreplaced');
    process.kill(victim!.pid, 'SIGKILL');

    expect(await meetingClosed).toEqual(['worker-died']);
    expect(participant.isClosed).toBe(true);
    expect(sfu.meeting('before-crash')).toBeUndefined();
    const [, replacement] = await replaced;
    expect(replacement.pid).not.toBe(victim!.pid);
    expect(sfu.stats()).toMatchObject({ workersConfigured: 1, workersAlive: 1, meetings: 0, participants: 0, transports: 0 });

    const after = await sfu.openMeeting('after-crash');
    const transport = await after.addParticipant('p2').createTransport('send');
    expect(transport.iceCandidates[0]).toMatchObject({ ip: '127.0.0.1' });
    expect((await after.router.dump()).transportIds).toEqual([transport.id]);
  });

  it('waits for the replacement when a meeting is opened while the only worker restarts', async () => {
    sfu = await Sfu.create(config, pino({ level: 'silent' }));
    const [victim] = sfu.pool.workers;
    const died = once(sfu.pool, 'workerdied');
    process.kill(victim!.pid, 'SIGKILL');
    await died;
    expect(sfu.pool.workers).toHaveLength(0);
    const meeting = await sfu.openMeeting('during-restart');
    expect(meeting.router.closed).toBe(false);
    expect(sfu.pool.workers).toHaveLength(1);
  });

  it('closes only the participants of a killed worker; the meeting carries on and places newcomers on the replacement', async () => {
    sfu = await Sfu.create(testSfuConfig(40000, 2), pino({ level: 'silent' }));
    const meeting = await sfu.openMeeting('two-workers');
    const survivor = meeting.addParticipant('survivor');
    const victim = meeting.addParticipant('victim');
    const [survivorWorker, victimWorker] = sfu.pool.workers;
    expect([survivor.placement.workerPid, victim.placement.workerPid]).toEqual([survivorWorker!.pid, victimWorker!.pid]);
    // The victim's microphone is piped to the survivor's worker and consumed there.
    const microphone = await plainMicrophone(victim, 0x2222);
    await plainSink(survivor);
    const consumer = await survivor.consume(microphone.producer.id);
    const survivorRouter = await survivor.placement.router;

    const victimClosed = once(victim, 'close');
    const consumerClosed = once(survivor, 'consumerclosed');
    const replaced = once(sfu.pool, 'workerreplaced');
    let meetingClosed = false;
    meeting.once('close', () => (meetingClosed = true));
    process.kill(victimWorker!.pid, 'SIGKILL');

    expect(await victimClosed).toEqual(['worker-died']);
    expect(await consumerClosed).toEqual([consumer.id]);
    expect([survivor.isClosed, meeting.isClosed, meetingClosed]).toEqual([false, false, false]);
    expect(sfu.meeting('two-workers')).toBe(meeting);
    expect([...meeting.participants.keys()]).toEqual(['survivor']);
    expect(meeting.router).toBe(survivorRouter);
    expect(meeting.pipeCount).toBe(0);
    // The pipe transport closed with its peer on the dead worker: only the survivor's own is left.
    await expect.poll(async () => (await survivorRouter.dump()).transportIds).toEqual([...survivor.transports.keys()]);

    const [, replacement] = await replaced;
    const newcomer = meeting.addParticipant('newcomer');
    expect(newcomer.placement.workerPid).toBe(replacement.pid);
    await newcomer.createTransport('send');
    expect(meeting.placement.map((router) => router.workerPid)).toEqual([survivorWorker!.pid, replacement.pid]);
  });
});
