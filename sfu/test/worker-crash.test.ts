// A mediasoup worker process killed mid-meeting: the pool replaces it and new meetings start on it.
import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Sfu } from '../src/index.js';
import { testSfuConfig } from './config.js';

const config = testSfuConfig(40000);

let sfu: Sfu | undefined;
afterEach(() => sfu?.close());

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
    expect(sfu.stats()).toMatchObject({ workers: 1, workersAlive: 1, meetings: 0, participants: 0, transports: 0 });

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
});
