// Roster changes at scale: 200 units joining at once reach every member in a bounded number of
// batches (≤ 10 per second each), not 200 separate events per member (200² in all).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BatchedEvent } from '../src/protocol.js';
import { ROSTER_BATCH_HZ, RosterBatcher } from '../src/RosterBatcher.js';
import type { RunningServer } from '../src/server.js';
import { connect, ok, type TestClient } from './client.js';
import { startTestServer, tokenFor } from './harness.js';

describe('RosterBatcher', () => {
  it('sends the first change at once, then at most ROSTER_BATCH_HZ batches a second, in order', () => {
    vi.useFakeTimers();
    try {
      const sent: number[][] = [];
      const batcher = new RosterBatcher(({ events }) => sent.push(events.map((event) => event.seq)));
      batcher.queue('participantLeft', { participantId: 'a' }, 'a');
      expect(sent).toEqual([[1]]); // leading edge: no wait after a quiet spell
      for (let i = 0; i < 50; i++) {
        batcher.queue('participantLeft', { participantId: `p${i}` }, null);
        vi.advanceTimersByTime(10); // 50 changes over 500 ms
      }
      vi.advanceTimersByTime(1000);
      expect(sent.flat()).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      expect(sent.length).toBeLessThanOrEqual(1 + (500 / 1000) * ROSTER_BATCH_HZ + 1);
      expect(batcher.lastSeq).toBe(51);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('200 units joining at once', () => {
  let server: RunningServer;
  const sockets: TestClient[] = [];

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
  });

  it('reach every member in a bounded number of messages, and every member converges', async () => {
    const room = 'join-storm';
    const observer = await connect(server.url);
    sockets.push(observer);
    await ok(observer, 'join', { meetingId: room, token: await tokenFor(server, { room, identity: 'city-office' }) });
    const batches: BatchedEvent[][] = [];
    observer.on('rosterBatch', ({ events }: { events: BatchedEvent[] }) => batches.push(events));

    const started = Date.now();
    const units = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const socket = await connect(server.url);
        sockets.push(socket);
        const messages = new Map<string, number>();
        socket.onAny((event: string) => messages.set(event, (messages.get(event) ?? 0) + 1));
        const reply = await ok(socket, 'join', { meetingId: room, token: await tokenFor(server, { room, identity: `town-${i}` }) });
        const known = new Set(reply.participants.map((participant) => participant.id));
        socket.on('rosterBatch', ({ events }: { events: BatchedEvent[] }) => {
          for (const event of events) if (event.seq > reply.rosterSeq && event.name === 'participantJoined') known.add(event.payload.participant.id);
        });
        return { socket, messages, known, selfId: reply.self.id };
      }),
    );
    const joinedMs = Date.now() - started;

    // Everyone converges on the full roster (201 members, minus themselves).
    const everyone = new Set(units.map((unit) => unit.selfId));
    await expect
      .poll(() => units.every((unit) => everyone.size - 1 <= [...unit.known].filter((id) => everyone.has(id) && id !== unit.selfId).length), {
        timeout: 10_000,
      })
      .toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the last batch land
    const elapsedMs = Date.now() - started;

    // The observer saw all 200 joins in at most ROSTER_BATCH_HZ batches a second (plus the first).
    const joined = batches.flat().filter((event) => event.name === 'participantJoined');
    expect(joined).toHaveLength(200);
    const bound = Math.ceil((elapsedMs / 1000) * ROSTER_BATCH_HZ) + 1;
    expect(batches.length).toBeLessThanOrEqual(bound);
    expect(batches.length).toBeLessThan(200 / 4); // unbatched it would be 200 messages
    // So did every unit: its messages are bounded by time, not by the number of units — each kind
    // (roster batches, control state) at most ROSTER_BATCH_HZ a second.
    const worst = Math.max(...units.map((unit) => [...unit.messages.values()].reduce((sum, count) => sum + count, 0)));
    for (const unit of units) {
      for (const [event, count] of unit.messages) expect(count, event).toBeLessThanOrEqual(bound);
      expect([...unit.messages.keys()].sort()).toEqual(expect.arrayContaining(['rosterBatch']));
    }
    expect(worst).toBeLessThanOrEqual(2 * bound);
    console.info(JSON.stringify({ units: 200, joinedMs, elapsedMs, observerBatches: batches.length, worstUnitMessages: worst, bound }));
  }, 60_000);
});
