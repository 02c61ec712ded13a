// What a client sees when its meeting's worker dies: sessionEnded, then a working rejoin.
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { connect, nextEvent, ok } from './client.js';
import { startTestServer, tokenFor } from './harness.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

it('tells joined clients that the media server restarted and lets them join again', async () => {
  const room = 'crash';
  const socket = await connect(server.url);
  const token = await tokenFor(server, { room, identity: 'town-c' });
  await ok(socket, 'join', { meetingId: room, token });
  await ok(socket, 'createTransport', { direction: 'recv' });

  const ended = nextEvent(socket, 'sessionEnded');
  const replaced = once(server.sfu.pool, 'workerreplaced');
  process.kill(server.sfu.pool.workers[0]!.pid, 'SIGKILL');
  expect(await ended).toMatchObject({ reason: 'MEDIA_SERVER_RESTARTED' });
  await replaced;
  expect(server.roster.participantCount).toBe(0);

  const rejoined = await ok(socket, 'join', { meetingId: room, token });
  expect(rejoined.self.identity).toBe('town-c');
  expect((await ok(socket, 'createTransport', { direction: 'recv' })).id).toBeTruthy();
  expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ status: 'ok', participants: 1 });
  socket.close();
});
