// The chair console over the real signaling server: who may do what (table-driven), floor control,
// mute all, roll call, broadcast, lock, remove, end — with real mediasoup producers being paused.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MintOptions } from '../src/auth/tokens.js';
import { meetingRecord } from '../src/governance/meetingRecords.js';
import { MEETING_ROLES, type JoinReply, type MeetingRole, type RequestName } from '../src/protocol.js';
import type { RunningServer } from '../src/server.js';
import { connect, nextEvent, ok, onEvent, request, type TestClient } from './client.js';
import { fakeDtlsParameters, opusParameters } from './fixtures.js';
import { startTestServer, tokenFor } from './harness.js';

let server: RunningServer;
const sockets: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

async function join(
  room: string,
  identity: string,
  role: MeetingRole,
  extra: Partial<MintOptions> = {},
): Promise<[TestClient, JoinReply]> {
  const socket = await connect(server.url);
  sockets.push(socket);
  const token = await tokenFor(server, { room, identity, name: identity, role, ...extra });
  return [socket, await ok(socket, 'join', { meetingId: room, token })];
}

/** Publishes a (fake) microphone and returns its producer id. */
async function publishMicrophone(socket: TestClient, ssrc: number): Promise<string> {
  const transport = await ok(socket, 'createTransport', { direction: 'send' });
  await ok(socket, 'connectTransport', { transportId: transport.id, dtlsParameters: fakeDtlsParameters });
  const { id } = await ok(socket, 'produce', { transportId: transport.id, kind: 'audio', rtpParameters: opusParameters(ssrc), source: 'microphone' });
  return id;
}

function producerPaused(room: string, participantId: string, producerId: string): boolean {
  return server.sfu.meeting(room)!.participants.get(participantId)!.producer(producerId).paused;
}

async function errorCode(socket: TestClient, name: RequestName, payload: unknown): Promise<string> {
  const reply = await request(socket, name, payload);
  return reply.ok ? 'OK' : reply.error.code;
}

function scheduleMeeting(id: string, invitedUnitIds: string[]): void {
  const number = 20_000_000 + Math.floor(Math.random() * 70_000_000);
  server.store.meetings.create(meetingRecord({ id, number, title: `测试会议 ${id}`, chairUnitId: 'city-office', mainVenueUnitId: 'city-office', invitedUnitIds }));
}

describe('authorization matrix', () => {
  // Written out by hand (not derived from ROLE_ACTIONS) so that a wrong table fails the test.
  const CHAIRS: MeetingRole[] = ['operator', 'chair', 'cochair'];
  const cases: { request: RequestName; payload: (target: string) => unknown; allowed: MeetingRole[]; setup?: 'handRaised' | 'called' }[] = [
    { request: 'muteAll', payload: () => ({ allowSelfUnmute: false }), allowed: CHAIRS },
    { request: 'setAllowSelfUnmute', payload: () => ({ allowed: false }), allowed: CHAIRS },
    { request: 'setFloorMode', payload: () => ({ mode: 'controlled' }), allowed: CHAIRS },
    { request: 'setLocked', payload: () => ({ locked: true }), allowed: CHAIRS },
    { request: 'muteParticipant', payload: (target) => ({ participantId: target, source: 'microphone' }), allowed: CHAIRS },
    { request: 'muteParticipant', payload: (target) => ({ participantId: target, source: 'camera' }), allowed: CHAIRS },
    { request: 'requestUnmute', payload: (target) => ({ participantId: target }), allowed: CHAIRS },
    { request: 'removeParticipant', payload: (target) => ({ participantId: target }), allowed: CHAIRS },
    { request: 'endMeeting', payload: () => ({}), allowed: ['operator', 'chair'] },
    { request: 'grantFloor', payload: () => ({ unitId: 'town-x' }), allowed: CHAIRS },
    { request: 'denyFloor', payload: () => ({ unitId: 'town-x' }), allowed: CHAIRS, setup: 'handRaised' },
    { request: 'revokeFloor', payload: () => ({ unitId: 'town-x' }), allowed: CHAIRS },
    { request: 'rollCall', payload: () => ({ unitId: 'town-x' }), allowed: CHAIRS },
    { request: 'rollCallNext', payload: () => ({}), allowed: CHAIRS },
    { request: 'markRollCall', payload: () => ({ unitId: 'town-x', result: 'present' }), allowed: CHAIRS, setup: 'called' },
    { request: 'finishRollCall', payload: () => ({}), allowed: CHAIRS },
    { request: 'setBroadcast', payload: () => ({ unitId: 'town-x' }), allowed: CHAIRS },
    { request: 'setBroadcast', payload: () => ({ unitId: null }), allowed: CHAIRS },
    { request: 'sendChat', payload: () => ({ text: '收到' }), allowed: ['operator', 'chair', 'cochair', 'participant', 'terminal'] },
    { request: 'setHandRaised', payload: () => ({ raised: true }), allowed: ['operator', 'chair', 'cochair', 'participant', 'terminal'] },
  ];

  let meetingNumber = 0;
  for (const testCase of cases) {
    it(`${testCase.request} ${JSON.stringify(testCase.payload('<target>'))}: only ${testCase.allowed.join(', ')}`, async () => {
      const outcomes: Record<string, string> = {};
      for (const role of MEETING_ROLES) {
        const room = `matrix-${++meetingNumber}`;
        const [admin] = await join(room, 'setup-operator', 'operator');
        const [target, targetJoin] = await join(room, 'town-x', 'participant');
        if (testCase.setup === 'handRaised') await ok(target, 'setHandRaised', { raised: true });
        if (testCase.setup === 'called') await ok(admin, 'rollCall', { unitId: 'town-x' });
        const [actor] = await join(room, `actor-${role}`, role);
        outcomes[role] = await errorCode(actor, testCase.request, testCase.payload(targetJoin.self.id));
      }
      const expected = Object.fromEntries(MEETING_ROLES.map((role) => [role, testCase.allowed.includes(role) ? 'OK' : 'FORBIDDEN']));
      expect(outcomes).toEqual(expected);
    });
  }

  it('observers cannot publish; their reply says which role they have', async () => {
    const [observer, reply] = await join('matrix-observer', 'watcher', 'observer');
    expect(reply.permissions).toMatchObject({ role: 'observer', canPublish: false, actions: [] });
    expect(await errorCode(observer, 'createTransport', { direction: 'send' })).toBe('FORBIDDEN');
  });

  it('the chair cannot be removed, even by a co-chair', async () => {
    const [, chairJoin] = await join('matrix-remove-chair', 'city-office', 'chair');
    const [cochair] = await join('matrix-remove-chair', 'deputy', 'cochair');
    expect(await errorCode(cochair, 'removeParticipant', { participantId: chairJoin.self.id })).toBe('FORBIDDEN');
  });
});

describe('floor control', () => {
  it('holds microphones in controlled mode until the chair grants the floor, and takes it back', async () => {
    const room = 'floor';
    const [chair] = await join(room, 'city-office', 'chair');
    const [unit, unitJoin] = await join(room, 'county-a', 'participant');
    const mic = await publishMicrophone(unit, 5001);
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(false);

    const muted = nextEvent(unit, 'chairNotice');
    const control = nextEvent(unit, 'controlChanged');
    await ok(chair, 'setFloorMode', { mode: 'controlled' });
    expect((await control).control.floorMode).toBe('controlled');
    expect(await muted).toEqual({ kind: 'muted', by: 'city-office' });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);
    expect(await errorCode(unit, 'resumeProducer', { producerId: mic })).toBe('FLOOR_REQUIRED');

    // Raise a hand: the chair sees the queue; granting lets the unit unmute.
    const queued = nextEvent(chair, 'controlChanged');
    await ok(unit, 'setHandRaised', { raised: true });
    expect((await queued).control.handQueue).toMatchObject([{ unitId: 'county-a', participantId: unitJoin.self.id }]);
    const granted = nextEvent(unit, 'chairNotice');
    await ok(chair, 'grantFloor', { unitId: 'county-a' });
    expect((await granted).kind).toBe('floorGranted');
    await ok(unit, 'resumeProducer', { producerId: mic });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(false);

    // Revoking pauses the microphone again.
    const revoked = nextEvent(unit, 'chairNotice');
    await ok(chair, 'revokeFloor', { unitId: 'county-a' });
    expect((await revoked).kind).toBe('floorRevoked');
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);
    expect(await errorCode(unit, 'resumeProducer', { producerId: mic })).toBe('FLOOR_REQUIRED');

    // A microphone published while the floor is held starts paused.
    const [late, lateJoin] = await join(room, 'county-b', 'participant');
    expect(lateJoin.control.floorMode).toBe('controlled');
    const lateMic = await publishMicrophone(late, 5002);
    expect(producerPaused(room, lateJoin.self.id, lateMic)).toBe(true);

    // The chair's own microphone is never held.
    const chairMic = await publishMicrophone(chair, 5003);
    const chairId = (await ok(chair, 'setHandRaised', { raised: false }), server.roster.findByUnit(room, 'city-office')!.participantId);
    expect(producerPaused(room, chairId, chairMic)).toBe(false);
  });

  it('mute all pauses every unit; self-unmute follows the chair’s choice', async () => {
    const room = 'mute-all';
    const [chair] = await join(room, 'city-office', 'chair');
    const [unit, unitJoin] = await join(room, 'county-a', 'participant');
    const mic = await publishMicrophone(unit, 5101);
    await ok(chair, 'muteAll', { allowSelfUnmute: true });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);
    await ok(unit, 'resumeProducer', { producerId: mic });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(false);

    await ok(chair, 'muteAll', { allowSelfUnmute: false });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);
    expect(await errorCode(unit, 'resumeProducer', { producerId: mic })).toBe('FLOOR_REQUIRED');
    await ok(chair, 'setAllowSelfUnmute', { allowed: true });
    await ok(unit, 'resumeProducer', { producerId: mic });
  });

  it('muting one unit pauses its microphone on the server and tells it; asking it to unmute needs the floor', async () => {
    const room = 'mute-one';
    const [chair] = await join(room, 'city-office', 'chair');
    const [unit, unitJoin] = await join(room, 'county-a', 'participant');
    const [other, otherJoin] = await join(room, 'county-b', 'participant');
    const mic = await publishMicrophone(unit, 5201);
    const otherMic = await publishMicrophone(other, 5202);
    const notice = nextEvent(unit, 'chairNotice');
    await ok(chair, 'muteParticipant', { participantId: unitJoin.self.id, source: 'microphone' });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);
    expect(producerPaused(room, otherJoin.self.id, otherMic)).toBe(false); // only that unit
    expect(await notice).toMatchObject({ kind: 'muted', by: 'city-office' });

    // Free floor: the unit is asked (it unmutes itself; the server does not open it).
    const asked = nextEvent(unit, 'chairNotice');
    await ok(chair, 'requestUnmute', { participantId: unitJoin.self.id });
    expect(await asked).toMatchObject({ kind: 'unmuteRequested' });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);
    await ok(unit, 'resumeProducer', { producerId: mic });

    // Controlled floor: asking a unit without the floor is refused with what to do instead.
    await ok(chair, 'setFloorMode', { mode: 'controlled' });
    const refused = await request(chair, 'requestUnmute', { participantId: otherJoin.self.id });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('grant it the floor') });
  });

  it('two co-chairs answering the same hand resolve in arrival order', async () => {
    const room = 'two-cochairs';
    const [a] = await join(room, 'deputy-a', 'cochair');
    const [b] = await join(room, 'deputy-b', 'cochair');
    const [unit] = await join(room, 'county-a', 'participant');
    await ok(a, 'setFloorMode', { mode: 'controlled' });
    await ok(unit, 'setHandRaised', { raised: true });
    const notices: string[] = [];
    onEvent(unit, 'chairNotice', ({ kind }) => notices.push(kind));
    const [grant, deny] = await Promise.all([request(a, 'grantFloor', { unitId: 'county-a' }), request(b, 'denyFloor', { unitId: 'county-a' })]);
    const control = server.roster.get(room)!.control.state();
    expect(control.handQueue).toEqual([]);
    // Granting needs no raised hand, so it always succeeds and the unit ends up with the floor.
    expect(grant.ok).toBe(true);
    expect(control.floorUnitIds).toEqual(['county-a']);
    if (deny.ok) {
      // The deny arrived first and lowered the hand; the grant then gave the floor anyway.
      await vi.waitFor(() => expect(notices).toEqual(['floorDenied', 'floorGranted']));
    } else {
      // The grant arrived first and lowered the hand; the deny found none.
      expect(deny.error.code).toBe('INVALID_STATE');
      await vi.waitFor(() => expect(notices).toEqual(['floorGranted']));
    }
  });

  it('two co-chairs calling the next unit at once call two different units', async () => {
    const room = 'two-cochairs-roll-call';
    scheduleMeeting(room, ['county-a', 'county-b', 'town-c']);
    const [a] = await join(room, 'deputy-a', 'cochair');
    const [b] = await join(room, 'deputy-b', 'cochair');
    const [first, second] = await Promise.all([ok(a, 'rollCallNext', {}), ok(b, 'rollCallNext', {})]);
    expect([first.unitId, second.unitId].sort()).toEqual(['county-a', 'county-b']);
    const control = server.roster.get(room)!.control.state();
    expect(control.rollCall).toMatchObject({ called: 2, total: 3 });
    // Whichever request was applied second got county-b, and that call is the current one.
    expect(control.rollCall.currentUnitId).toBe('county-b');
    expect(await ok(a, 'rollCallNext', {})).toEqual({ unitId: 'town-c' });
  });
});

describe('roll call', () => {
  it('walks the invited units in order, shows the called unit to everyone and records the marks', async () => {
    const room = 'roll-call';
    scheduleMeeting(room, ['county-a', 'county-b', 'town-c']);
    const [chair, chairJoin] = await join(room, 'city-office', 'chair');
    expect(chairJoin.meeting).toMatchObject({ id: room, state: 'live', chairUnitId: 'city-office' });
    expect(chairJoin.control.rollCall).toMatchObject({ currentUnitId: null, called: 0, total: 3 });
    const [unit, unitJoin] = await join(room, 'county-a', 'participant');
    const mic = await publishMicrophone(unit, 5201);
    const muted = nextEvent(unit, 'chairNotice');
    await ok(chair, 'setFloorMode', { mode: 'controlled' });
    expect((await muted).kind).toBe('muted');
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);

    const called = nextEvent(unit, 'chairNotice');
    const seen = nextEvent(chair, 'controlChanged');
    expect(await ok(chair, 'rollCallNext', {})).toEqual({ unitId: 'county-a' });
    expect((await called).kind).toBe('rollCalled');
    expect((await seen).control.rollCall).toMatchObject({ currentUnitId: 'county-a', called: 1, total: 3 });
    // Being called gives the floor: the unit may answer.
    await ok(unit, 'resumeProducer', { producerId: mic });

    const status = nextEvent(unit, 'rollCallStatus');
    await ok(chair, 'markRollCall', { unitId: 'county-a', result: 'present' });
    expect(await status).toEqual({ unitId: 'county-a', status: 'present' });

    // Moving on ends the call's floor: the microphone is held again.
    expect(await ok(chair, 'rollCallNext', {})).toEqual({ unitId: 'county-b' });
    expect(producerPaused(room, unitJoin.self.id, mic)).toBe(true);
    await ok(chair, 'markRollCall', { unitId: 'county-b', result: 'absent' });
    expect(await ok(chair, 'rollCallNext', {})).toEqual({ unitId: 'town-c' });
    expect(await ok(chair, 'rollCallNext', {})).toEqual({ unitId: null });
    expect(server.roster.get(room)!.control.state().rollCall).toMatchObject({ currentUnitId: null, called: 3, present: 1, absent: 1 });

    expect(await errorCode(chair, 'markRollCall', { unitId: 'nobody', result: 'present' })).toBe('INVALID_STATE');
    const records = server.store.attendance.rollCalls(room);
    expect(records.map(({ unitId, result }) => [unitId, result]).sort()).toEqual([
      ['county-a', 'present'],
      ['county-b', 'absent'],
      ['town-c', null],
    ]);

    // A late joiner gets the progress.
    const [, late] = await join(room, 'town-c', 'participant');
    expect(late.rollCallResults).toEqual({ 'county-a': 'present', 'county-b': 'absent', 'town-c': 'called' });
    expect(late.directory).toBeNull(); // these test units are not in the unit directory
  });
});

describe('venues, lock, remove, end', () => {
  it('broadcast venue reaches everyone; unknown units are refused', async () => {
    const room = 'broadcast';
    const [chair] = await join(room, 'city-office', 'chair');
    const [unit] = await join(room, 'county-a', 'participant');
    const seen = nextEvent(unit, 'controlChanged');
    await ok(chair, 'setBroadcast', { unitId: 'county-a' });
    expect((await seen).control.broadcastUnitId).toBe('county-a');
    expect(await errorCode(chair, 'setBroadcast', { unitId: 'no-such-unit' })).toBe('NOT_FOUND');
    await ok(chair, 'setBroadcast', { unitId: null });
    expect(server.roster.get(room)!.control.state().broadcastUnitId).toBeNull();
  });

  it('a locked meeting admits chairs and returning units only', async () => {
    const room = 'locked';
    const [chair] = await join(room, 'city-office', 'chair');
    const [unit] = await join(room, 'county-a', 'participant');
    await ok(chair, 'setLocked', { locked: true });
    expect(server.store.meetings.get(room)!.settings.locked).toBe(true);

    const stranger = await connect(server.url);
    sockets.push(stranger);
    const token = await tokenFor(server, { room, identity: 'county-z', role: 'participant' });
    expect(await errorCode(stranger, 'join', { meetingId: room, token })).toBe('MEETING_LOCKED');
    await join(room, 'deputy', 'cochair');
    unit.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await join(room, 'county-a', 'participant'); // was here before the lock
  });

  it('removing a participant ends its session and tells the others', async () => {
    const room = 'remove';
    const [chair] = await join(room, 'city-office', 'chair');
    const [unit, unitJoin] = await join(room, 'county-a', 'participant');
    const ended = nextEvent(unit, 'sessionEnded');
    const left = nextEvent(chair, 'participantLeft');
    await ok(chair, 'removeParticipant', { participantId: unitJoin.self.id });
    expect((await ended).reason).toBe('REMOVED');
    expect((await left).participantId).toBe(unitJoin.self.id);
    expect(await errorCode(unit, 'sendChat', { text: 'still here?' })).toBe('NOT_JOINED');
  });

  it('ending the meeting ends every session, persists the state and refuses rejoining', async () => {
    const room = 'end';
    const [chair] = await join(room, 'city-office', 'chair');
    const [unit] = await join(room, 'county-a', 'participant');
    const ended = nextEvent(unit, 'sessionEnded');
    const chairEnded = nextEvent(chair, 'sessionEnded');
    await ok(chair, 'endMeeting', {});
    expect((await ended).reason).toBe('MEETING_ENDED');
    expect((await chairEnded).reason).toBe('MEETING_ENDED');
    expect(server.store.meetings.get(room)).toMatchObject({ state: 'ended' });
    const again = await connect(server.url);
    sockets.push(again);
    const token = await tokenFor(server, { room, identity: 'county-a', role: 'participant' });
    expect(await errorCode(again, 'join', { meetingId: room, token })).toBe('MEETING_ENDED');
  });

  it('records attendance: one presence per stay, closed on leave', async () => {
    const room = 'attendance';
    const [unit] = await join(room, 'county-a', 'participant');
    await join(room, 'wall-1', 'observer', { hidden: true });
    await ok(unit, 'leave', {});
    await join(room, 'county-a', 'participant');
    const presences = server.store.attendance.presences(room);
    expect(presences.map(({ unitId, leftAt }) => [unitId, leftAt === null])).toEqual([
      ['county-a', false],
      ['county-a', true],
    ]);
  });
});
