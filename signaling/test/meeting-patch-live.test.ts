// An operator's PATCH /api/meetings/<id> on a running meeting takes effect at once: the lock admits
// nobody new, the main venue and the roll-call order change, and everyone gets controlChanged.
import { describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import type { MeetingControlState } from '../src/protocol.js';
import type { MeetingRecord } from '../src/store/types.js';
import { connect, ok, onEvent, request, type TestClient } from './client.js';
import { serverForFile, tokenFor } from './harness.js';

const { server, joined } = serverForFile();

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server().url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** The first controlChanged on `socket` whose state passes `check` (earlier ones may still be on their way). */
function controlWhere(socket: TestClient, check: (control: MeetingControlState) => boolean): Promise<MeetingControlState> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('no matching controlChanged within 5 s'));
    }, 5000);
    const stop = onEvent(socket, 'controlChanged', ({ control }) => {
      if (!check(control)) return;
      clearTimeout(timer);
      stop();
      resolve(control);
    });
  });
}

describe('PATCH /api/meetings/<id> on a running meeting', () => {
  it('locks it, moves the main venue and extends the roll call at once', async () => {
    for (const unit of [
      { id: 'pl-city', name: '市政府', level: 'city' },
      { id: 'pl-county-a', name: '甲县', level: 'county', parentId: 'pl-city' },
      { id: 'pl-town-c', name: '丙镇', level: 'town', parentId: 'pl-county-a' },
      { id: 'pl-county-b', name: '乙县', level: 'county', parentId: 'pl-city' },
    ]) {
      await api('POST', '/api/units', unit);
    }
    const room = 'patch-live';
    await api('POST', '/api/meetings', {
      id: room,
      title: '防汛调度会',
      chairUnitId: 'pl-city',
      mainVenueUnitId: 'pl-city',
      invite: { units: ['pl-county-a', 'pl-county-b'] },
    });
    const chair = await joined(room, 'pl-city', 'chair');
    const unit = await joined(room, 'pl-county-a', 'participant');

    const lockedSeen = controlWhere(chair, (control) => control.locked);
    const unitSeesLock = controlWhere(unit, (control) => control.locked);
    const locked = await api<MeetingRecord>('PATCH', `/api/meetings/${room}`, { settings: { locked: true } });
    expect(locked.settings.locked).toBe(true);
    await Promise.all([lockedSeen, unitSeesLock]);
    const latecomer = await connect(server().url);
    try {
      const token = await tokenFor(server(), { room, identity: 'pl-county-b', role: 'participant', unitId: 'pl-county-b' });
      const refused = await request(latecomer, 'join', { meetingId: room, token });
      expect(refused.ok ? 'OK' : refused.error.code).toBe('MEETING_LOCKED');
    } finally {
      latecomer.disconnect();
    }
    // The chair's next settings change keeps the operator's lock.
    await ok(chair, 'setFloorMode', { mode: 'controlled' });
    expect((await api<MeetingRecord>('GET', `/api/meetings/${room}`)).settings).toMatchObject({ locked: true, floorMode: 'controlled' });

    const venueSeen = controlWhere(chair, (control) => control.mainVenueUnitId === 'pl-county-a');
    await api('PATCH', `/api/meetings/${room}`, { mainVenueUnitId: 'pl-county-a' });
    expect((await venueSeen).locked).toBe(true);

    const orderSeen = controlWhere(chair, (control) => control.rollCall.total === 4);
    const invited = await api<MeetingRecord>('PATCH', `/api/meetings/${room}`, { invite: { units: ['pl-county-a', 'pl-town-c', 'pl-county-b'] } });
    expect(invited.invitedUnitIds).toEqual(['pl-city', 'pl-county-a', 'pl-town-c', 'pl-county-b']);
    await orderSeen;
    const calls: (string | null)[] = [];
    for (let i = 0; i < 5; i++) calls.push((await ok(chair, 'rollCallNext', {})).unitId);
    expect(calls).toEqual(['pl-city', 'pl-county-a', 'pl-town-c', 'pl-county-b', null]);
  });
});
