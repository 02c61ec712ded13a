// One meeting across two mediasoup workers, in real Chromium: participants are placed on both, each
// decodes the others' video and receives their audio through pipes between the workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserMeeting, inboundStats, statsOf, waitForMediaFrom, type Attendee } from './harness.js';

let meeting: BrowserMeeting;

describe('a meeting spanning two workers', () => {
  const attendees: Attendee[] = [];

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-workers', undefined, { numWorkers: 2 });
    attendees.push(await meeting.join('city-office', '市政府办公室'));
    attendees.push(await meeting.join('county-a', '甲县'));
    attendees.push(await meeting.join('town-b', '乙镇'));
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('places participants on both workers and carries media between them', async () => {
    const placement = meeting.server.sfu.stats().placement[meeting.room]!;
    expect(new Set(placement.map((router) => router.workerPid)).size).toBe(2);
    expect(placement.reduce((sum, router) => sum + router.participants, 0)).toBe(3);

    for (const attendee of attendees) {
      const others = attendees.filter((other) => other !== attendee);
      const first = await waitForMediaFrom(attendee.page, others);
      await new Promise((done) => setTimeout(done, 1_500));
      const second = await inboundStats(attendee.page);
      for (const other of others) {
        const label = `${attendee.identity} ← ${other.identity}`;
        expect(statsOf(second, other.id, 'video')!.framesDecoded, label).toBeGreaterThan(statsOf(first, other.id, 'video')!.framesDecoded);
        expect(statsOf(second, other.id, 'audio')!.packetsReceived, label).toBeGreaterThan(statsOf(first, other.id, 'audio')!.packetsReceived);
      }
    }
    // Whoever shares a worker with nobody else receives everything through pipes.
    expect(meeting.server.sfu.stats().pipes).toBeGreaterThan(0);
  }, 60_000);
});
