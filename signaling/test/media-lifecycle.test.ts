// Join, produce, consume, leave against a real mediasoup worker, checking the router's own dump.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JoinReply } from '../src/protocol.js';
import type { RunningServer } from '../src/server.js';
import { connect, nextEvent, ok, request, type TestClient } from './client.js';
import { fakeDtlsParameters, opusParameters, vp8Parameters } from './fixtures.js';
import { startTestServer, tokenFor } from './harness.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

async function join(room: string, identity: string, grants: { canPublish?: boolean } = {}): Promise<[TestClient, JoinReply]> {
  const socket = await connect(server.url);
  const reply = await ok(socket, 'join', { meetingId: room, token: await tokenFor(server, { room, identity, ...grants }) });
  return [socket, reply];
}

function routerDump(room: string) {
  const meeting = server.sfu.meeting(room);
  if (!meeting) throw new Error(`no meeting ${room}`);
  return meeting.router.dump();
}

describe('media lifecycle', () => {
  it('produces, consumes and cleans up everything on leave and disconnect', async () => {
    const room = 'lifecycle';
    const [alice] = await join(room, 'city-office');
    const [bob, bobJoin] = await join(room, 'county-a');

    // Alice publishes microphone and camera.
    const sendTransport = await ok(alice, 'createTransport', { direction: 'send' });
    expect(sendTransport.iceCandidates.length).toBeGreaterThan(0);
    await ok(alice, 'connectTransport', { transportId: sendTransport.id, dtlsParameters: fakeDtlsParameters });
    const bobSeesAudio = nextEvent(bob, 'producerAdded');
    const audio = await ok(alice, 'produce', { transportId: sendTransport.id, kind: 'audio', rtpParameters: opusParameters(1111), source: 'microphone' });
    expect(await bobSeesAudio).toMatchObject({ producer: { id: audio.id, kind: 'audio', source: 'microphone', paused: false } });
    const video = await ok(alice, 'produce', { transportId: sendTransport.id, kind: 'video', rtpParameters: vp8Parameters(2222), source: 'camera' });
    const duplicate = await request(alice, 'produce', { transportId: sendTransport.id, kind: 'video', rtpParameters: vp8Parameters(3333), source: 'camera' });
    expect(duplicate.ok ? '' : duplicate.error.code).toBe('INVALID_STATE');

    // Bob subscribes; consumers start paused and resume on request.
    await ok(bob, 'setRtpCapabilities', { rtpCapabilities: bobJoin.routerRtpCapabilities });
    const recvTransport = await ok(bob, 'createTransport', { direction: 'recv' });
    await ok(bob, 'connectTransport', { transportId: recvTransport.id, dtlsParameters: fakeDtlsParameters });
    const audioConsumer = await ok(bob, 'consume', { producerId: audio.id });
    const videoConsumer = await ok(bob, 'consume', { producerId: video.id });
    expect(audioConsumer).toMatchObject({ producerId: audio.id, kind: 'audio', source: 'microphone' });
    expect(videoConsumer).toMatchObject({ producerId: video.id, kind: 'video', source: 'camera' });
    const bobParticipant = server.sfu.meeting(room)!.participants.get(bobJoin.self.id)!;
    expect(bobParticipant.consumers.get(videoConsumer.id)!.paused).toBe(true);
    await ok(bob, 'resumeConsumer', { consumerId: videoConsumer.id });
    expect(bobParticipant.consumers.get(videoConsumer.id)!.paused).toBe(false);
    await ok(bob, 'setPreferredLayers', { consumerId: videoConsumer.id, spatialLayer: 0, temporalLayer: 0, priority: 3 });
    expect(bobParticipant.consumers.get(videoConsumer.id)!.priority).toBe(3);
    const layersOnAudio = await request(bob, 'setPreferredLayers', { consumerId: audioConsumer.id, spatialLayer: 0 });
    expect(layersOnAudio.ok ? '' : layersOnAudio.error.code).toBe('INVALID_STATE');

    // A consumer closed on request is gone from the router and can be created again.
    const extra = await ok(bob, 'consume', { producerId: video.id });
    await ok(bob, 'closeConsumer', { consumerId: extra.id });
    expect(bobParticipant.consumers.has(extra.id)).toBe(false);
    expect((await routerDump(room)).mapConsumerIdProducerId[extra.id]).toBeUndefined();
    const again = await request(bob, 'closeConsumer', { consumerId: extra.id });
    expect(again.ok ? '' : again.error.code).toBe('NOT_FOUND');

    let dump = await routerDump(room);
    expect(dump.transportIds).toHaveLength(2);
    // mediasoup 3.8's dump lists producers as the keys of mapProducerIdConsumerIds
    expect(dump.mapProducerIdConsumerIds).toEqual({
      [audio.id]: [audioConsumer.id],
      [video.id]: [videoConsumer.id],
    });

    // Mute is a producer pause that others hear about.
    const update = nextEvent(bob, 'producerUpdated');
    await ok(alice, 'pauseProducer', { producerId: audio.id });
    expect(await update).toEqual({ participantId: expect.any(String), producerId: audio.id, paused: true });

    // Alice leaves: Bob's consumers close and he sees her go.
    const left = nextEvent(bob, 'participantLeft');
    const consumersClosed = new Set<string>();
    bob.on('consumerClosed', ({ consumerId }: { consumerId: string }) => consumersClosed.add(consumerId));
    await ok(alice, 'leave', {});
    await left;
    await expect.poll(() => consumersClosed.size).toBe(2);
    dump = await routerDump(room);
    expect(dump.transportIds).toEqual([recvTransport.id]);
    expect(dump.mapProducerIdConsumerIds).toEqual({});
    expect(dump.mapConsumerIdProducerId).toEqual({});

    // Alice rejoins on the same connection and sees Bob.
    const rejoin = await ok(alice, 'join', { meetingId: room, token: await tokenFor(server, { room, identity: 'city-office' }) });
    expect(rejoin.participants.map((p) => p.identity)).toEqual(['county-a']);

    // Closing the tab (socket disconnect) frees everything; the last one out closes the router.
    const router = server.sfu.meeting(room)!.router;
    bob.close();
    alice.close();
    await expect.poll(() => server.sfu.stats()).toMatchObject({ meetings: 0, participants: 0, transports: 0, producers: 0, consumers: 0 });
    expect(router.closed).toBe(true);
    expect(server.roster.participantCount).toBe(0);
  });

  it('enforces publish and subscribe grants', async () => {
    const [viewer] = await join('grants', 'command-centre-screen', { canPublish: false });
    const reply = await request(viewer, 'createTransport', { direction: 'send' });
    expect(reply.ok ? '' : reply.error.code).toBe('FORBIDDEN');
    expect((await ok(viewer, 'createTransport', { direction: 'recv' })).id).toBeTruthy();
    viewer.close();
  });
});
