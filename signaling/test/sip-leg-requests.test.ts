// The chair console's SIP requests on a real server, without a live SIP peer (dial-out against
// sipp is in the SIP tests): chairs list the legs, cascade targets and their meeting's room
// terminals; participants are refused; bad dial requests say what is wrong; the legs reach the
// chair roles of the meeting and nobody else. And the 2-s broadcast of connected legs, with a fake
// SIP side and fake timers.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import type { SipDialRequest, SipLegStatus } from '../src/protocol.js';
import { SipLegBroadcast } from '../src/sip/SipLegBroadcast.js';
import type { SipLegControl, SipLegControlEvents } from '../src/sip/SipLegControl.js';
import { nextEvent, ok, onEvent, request } from './client.js';
import { serverForFile } from './harness.js';

const { server, joined } = serverForFile();

describe('SIP requests in a meeting', () => {
  it('gives chairs the legs, the cascade targets without credentials and the room terminals of the meeting', async () => {
    const { store } = server();
    store.units.upsertMany([
      { id: 'sip-city', name: '江州市', level: 'city', parentId: null, sortOrder: 0, sipUri: 'sip:room@10.2.0.1' },
      { id: 'sip-town', name: '城关镇', level: 'town', parentId: 'sip-city', sortOrder: 0, sipUri: null },
      { id: 'sip-other', name: '外县', level: 'county', parentId: 'sip-city', sortOrder: 1, sipUri: 'sip:room@10.2.0.9' },
    ]);
    store.cascadeTargets.create({
      id: 'province',
      name: '省视频会议平台',
      uri: 'sip:9000@10.1.1.1',
      username: 'jz',
      password: 'secret',
      displayName: null,
      bandwidthKbps: 2048,
      audioCodecs: ['G722'],
      video: true,
      dtmf: null,
      dtmfDelayMs: 3000,
      redial: true,
      createdBy: 'test',
      createdAt: 1,
    });
    const now = Date.now();
    store.meetings.create({
      id: 'sip-weekly',
      number: 87654321,
      title: '周例会',
      startsAt: null,
      endsAt: null,
      chairUnitId: 'sip-city',
      coChairUnitIds: [],
      mainVenueUnitId: null,
      invitedUnitIds: ['sip-city', 'sip-town'],
      observerUnitIds: [],
      pin: null,
      state: 'scheduled',
      adHoc: false,
      settings: { floorMode: 'free', allowSelfUnmute: true, locked: false, autoRecord: false },
      createdAt: now,
      startedAt: null,
      endedAt: null,
    });

    const chair = await joined('sip-weekly', 'sip-city', 'chair');
    const reply = await ok(chair, 'listSipLegs', {});
    expect(reply).toEqual({
      legs: [],
      targets: [{ id: 'province', name: '省视频会议平台', uri: 'sip:9000@10.1.1.1' }],
      terminals: [{ unitId: 'sip-city', name: '江州市', sipUri: 'sip:room@10.2.0.1' }],
    });

    const adHoc = await joined('sip-ad-hoc', 'sip-city', 'chair');
    const terminals = (await ok(adHoc, 'listSipLegs', {})).terminals.map((terminal) => terminal.unitId);
    expect(terminals).toEqual(expect.arrayContaining(['sip-city', 'sip-other']));
    expect(terminals).not.toContain('sip-town');
  });

  it('refuses participants and says what is wrong with a dial request', async () => {
    const participant = await joined('sip-weekly', 'sip-town', 'participant');
    for (const [name, payload] of [['listSipLegs', {}], ['dialSip', { targetId: 'province' }], ['hangupSip', { legId: 'x' }]] as const) {
      expect(await request(participant, name, payload)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    const chair = await joined('sip-weekly', 'sip-city', 'chair');
    expect(await request(chair, 'dialSip', { targetId: 'nowhere' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await request(chair, 'dialSip', { unitId: 'sip-town' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('sipUri') } });
    expect(await request(chair, 'dialSip', { targetId: 'province', unitId: 'sip-city' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await request(chair, 'dialSip', { unitId: 'sip-other' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await request(chair, 'hangupSip', { legId: 'no-such-leg' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    // The admin API asks the same gateway.
    const dial = (body: unknown) =>
      fetch(`${server().url}/api/meetings/sip-weekly/sip`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((response) => response.status);
    expect(await dial({ targetId: 'nowhere' })).toBe(404);
    expect(await dial({ unitId: 'sip-town' })).toBe(400);
    expect(await dial({ unitId: 'sip-other' })).toBe(403);
  });

  it('sends the legs to the chair roles of the meeting only', async () => {
    const chair = await joined('sip-weekly', 'sip-city', 'chair');
    const participant = await joined('sip-weekly', 'sip-town', 'participant');
    const elsewhere = await joined('sip-elsewhere', 'sip-city', 'chair');
    const leaked: unknown[] = [];
    onEvent(participant, 'sipLegs', (payload) => leaked.push(payload));
    onEvent(elsewhere, 'sipLegs', (payload) => leaked.push(payload));
    const legs = nextEvent(chair, 'sipLegs');
    server().sip!.emit('legs', 'sip-weekly');
    expect(await legs).toEqual({ legs: [] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(leaked).toEqual([]);
  });
});

class FakeSipLegs extends EventEmitter<SipLegControlEvents> implements SipLegControl {
  current = new Map<string, SipLegStatus[]>();
  legs(meetingId: string): SipLegStatus[] {
    return this.current.get(meetingId) ?? [];
  }
  dial(_meetingId: string, _request: SipDialRequest): Promise<SipLegStatus> {
    throw new Error('not dialled here');
  }
  hangup(): boolean {
    return false;
  }
}

const legIn = (state: SipLegStatus['state']) => ({ state }) as SipLegStatus;

describe('SipLegBroadcast', () => {
  it('sends on every change, and every 2 s while a leg is connected', () => {
    vi.useFakeTimers();
    try {
      const control = new FakeSipLegs();
      const sent: [string, number][] = [];
      const broadcast = new SipLegBroadcast(control, (meetingId, { legs }) => sent.push([meetingId, legs.length]));
      control.current.set('a', [legIn('calling')]);
      control.emit('legs', 'a');
      vi.advanceTimersByTime(5000);
      expect(sent).toEqual([['a', 1]]); // calling: no figures to refresh

      control.current.set('a', [legIn('connected')]);
      control.emit('legs', 'a');
      vi.advanceTimersByTime(4000);
      expect(sent).toEqual([['a', 1], ['a', 1], ['a', 1], ['a', 1]]);

      control.current.set('a', [legIn('ended')]);
      vi.advanceTimersByTime(2000); // the tick sees it ended and stops
      vi.advanceTimersByTime(6000);
      expect(sent).toHaveLength(5);
      expect(vi.getTimerCount()).toBe(0);

      control.current.set('b', [legIn('connected')]);
      control.emit('legs', 'b');
      broadcast.close();
      control.emit('legs', 'b');
      vi.advanceTimersByTime(6000);
      expect(sent).toHaveLength(6);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
