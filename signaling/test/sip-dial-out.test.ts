// Dialling out of a meeting over SIP, against real peers: sipp plays the provincial MCU (digest
// 401, our conference id sent as INFO DTMF, then it drops the call and we redial; a wrong password
// fails without redialling), and Debian's baresip is a unit's room terminal that answers our call
// with H.264 video and audio. The chair console's view (SipLegStatus) follows every step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveFfmpegCount } from '@cityconf/sfu';
import { afterAll, describe, expect, it } from 'vitest';
import { baresipReceived, startBaresip, type Baresip } from '../../cascade/test/baresip.js';
import { freePort, runSipp } from '../../cascade/test/sipp.js';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import type { SipLegStatus } from '../src/protocol.js';
import type { CascadeTargetRecord } from '../src/store/types.js';
import { ok, onEvent } from './client.js';
import { serverForFile } from './harness.js';

const { server, joined } = serverForFile();
const operator = { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, 'content-type': 'application/json' };

function target(id: string, port: number, changes: Partial<CascadeTargetRecord> = {}): CascadeTargetRecord {
  const record: CascadeTargetRecord = {
    id,
    name: '省视频会议平台',
    uri: `sip:9001@127.0.0.1:${port}`,
    username: 'city-a',
    password: 's3cret',
    displayName: '某市视频会议',
    bandwidthKbps: 1024,
    audioCodecs: ['G722', 'PCMA', 'PCMU'],
    video: true,
    dtmf: '1,2#',
    dtmfDelayMs: 500,
    redial: true,
    createdBy: 'test',
    createdAt: Date.now(),
    ...changes,
  };
  server().store.cascadeTargets.create(record);
  return record;
}

const legOf = (meetingId: string, legId: string): SipLegStatus | undefined => server().sip!.legs(meetingId).find((leg) => leg.id === legId);

describe('SIP dial-out', () => {
  const dirs: string[] = [];
  let terminal: Baresip | undefined;
  afterAll(async () => {
    await terminal?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('joins the upper MCU with digest and DTMF, redials when the MCU drops the call, and hangs up', async () => {
    const chair = await joined('cascade-room', 'chair-unit', 'chair');
    const states: string[] = [];
    onEvent(chair, 'sipLegs', ({ legs }) => {
      const state = legs[0]?.state;
      if (state && states.at(-1) !== state) states.push(state);
    });
    const mcuPort = await freePort();
    target('province', mcuPort);

    // The MCU takes the call, hears "1 2 #" as INFO, and drops the call three seconds later.
    const first = runSipp('mcu-drop.xml', ['-p', String(mcuPort), '-mp', String(await freePort()), '-rtp_echo', '-set', 'user', 'city-a', '-set', 'password', 's3cret']);
    const response = await fetch(`${server().url}/api/meetings/cascade-room/sip`, { method: 'POST', headers: operator, body: JSON.stringify({ targetId: 'province' }) });
    expect(response.status).toBe(202);
    const leg = (await response.json()) as SipLegStatus;
    expect(leg).toMatchObject({ direction: 'out', kind: 'mcu', name: '省视频会议平台', targetId: 'province', state: 'calling' });

    await expect.poll(() => legOf('cascade-room', leg.id)?.state, { timeout: 20_000 }).toBe('connected');
    const connected = legOf('cascade-room', leg.id)!;
    expect(connected.audio).toEqual({ codec: 'PCMA', clockRate: 8000, srtp: false });
    expect(connected.video).toEqual({ codec: 'H264', profileLevelId: '42e01f', srtp: false });
    const roster = server().roster.members('cascade-room').find((member) => member.participantId === connected.participantId);
    expect(roster).toMatchObject({ name: '省视频会议平台', unitId: 'cascade:province' });

    const dropped = await first.result;
    expect(dropped.code, dropped.errors || dropped.output).toBe(0); // digest checked, b=AS:1024 offered, keys 1 2 # heard
    // The call dropped: we dial again after 2 s; this time the MCU keeps it.
    await expect.poll(() => legOf('cascade-room', leg.id)?.state, { timeout: 5_000 }).toBe('redialing');
    expect(legOf('cascade-room', leg.id)).toMatchObject({ attempt: 1, error: expect.stringContaining('call ended: remote-bye') });
    const second = runSipp('mcu-stay.xml', ['-p', String(mcuPort), '-mp', String(await freePort()), '-rtp_echo', '-set', 'user', 'city-a', '-set', 'password', 's3cret']);
    await expect.poll(() => legOf('cascade-room', leg.id)?.state, { timeout: 20_000 }).toBe('connected');
    expect(legOf('cascade-room', leg.id)).toMatchObject({ attempt: 1, audio: { codec: 'G722', clockRate: 8000 } });
    // sipp echoes what we send: media flows both ways and the figures say so.
    await expect.poll(() => legOf('cascade-room', leg.id)?.rxKbps ?? 0, { timeout: 10_000 }).toBeGreaterThan(10);
    expect(legOf('cascade-room', leg.id)!.txKbps).toBeGreaterThan(10);
    expect(legOf('cascade-room', leg.id)!.lossPct).toBeLessThan(5);

    const hungUp = await fetch(`${server().url}/api/meetings/cascade-room/sip/${leg.id}`, { method: 'DELETE', headers: operator });
    expect(hungUp.status).toBe(204);
    const stayed = await second.result;
    expect(stayed.code, stayed.errors || stayed.output).toBe(0); // our BYE came
    expect(server().sip!.legs('cascade-room')).toEqual([]);
    expect(server().sip!.legCount).toBe(0);
    expect(states).toEqual(expect.arrayContaining(['calling', 'connected', 'redialing']));
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
  }, 90_000);

  it('fails without redialling when the MCU refuses our credentials', async () => {
    await joined('cascade-refused', 'chair-unit', 'chair');
    const mcuPort = await freePort();
    target('province-wrong', mcuPort, { password: 'wrong' });
    const sipp = runSipp('mcu-stay.xml', ['-p', String(mcuPort), '-mp', String(await freePort()), '-set', 'user', 'city-a', '-set', 'password', 's3cret']);
    const leg = await server().sip!.dial('cascade-refused', { targetId: 'province-wrong' }, 'test');
    await expect.poll(() => legOf('cascade-refused', leg.id)?.state, { timeout: 20_000 }).toBe('failed');
    expect(legOf('cascade-refused', leg.id)!.error).toBe('403 Forbidden');
    expect((await sipp.result).code).toBe(0);
    expect(server().sip!.hangup('cascade-refused', leg.id)).toBe(true);
    expect(server().sip!.legs('cascade-refused')).toEqual([]);
  }, 60_000);

  it('calls a unit’s room terminal, which answers with video and audio and is in the roster as that unit', async () => {
    const chair = await joined('terminal-call', 'chair-unit', 'chair');
    const joinedNames: string[] = [];
    onEvent(chair, 'participantJoined', ({ participant }) => joinedNames.push(participant.name));
    const dir = mkdtempSync(join(tmpdir(), 'cityconf-baresip-'));
    dirs.push(dir);
    const terminalPort = await freePort();
    terminal = startBaresip({ dir, sipPort: terminalPort, account: '"乙镇会议室" <sip:town-b-room@127.0.0.1>', autoAnswer: true });
    for (const unit of [
      { id: 'city', name: '某某市', level: 'city', parentId: null },
      { id: 'county-a', name: '甲县', level: 'county', parentId: 'city' },
      { id: 'town-b', name: '乙镇人民政府', level: 'town', parentId: 'county-a', sipUri: `sip:town-b-room@127.0.0.1:${terminalPort}` },
    ]) {
      const created = await fetch(`${server().url}/api/units`, { method: 'POST', headers: operator, body: JSON.stringify(unit) });
      expect(created.status, await created.text()).toBe(201);
    }
    await expect.poll(() => terminal!.output(), { timeout: 10_000 }).toMatch(/baresip is ready/);

    const leg = await server().sip!.dial('terminal-call', { unitId: 'town-b' }, 'test');
    expect(leg).toMatchObject({ kind: 'terminal', unitId: 'town-b', name: '乙镇人民政府' });
    await expect.poll(() => legOf('terminal-call', leg.id)?.state, { timeout: 20_000 }).toBe('connected');
    await expect.poll(() => joinedNames, { timeout: 10_000 }).toContain('乙镇人民政府');
    expect(legOf('terminal-call', leg.id)!.video?.codec).toBe('H264');
    // Its camera reaches the meeting: the leg receives video and audio, and sends ours.
    await expect.poll(() => legOf('terminal-call', leg.id)?.rxKbps ?? 0, { timeout: 15_000 }).toBeGreaterThan(50);
    expect(legOf('terminal-call', leg.id)!.txKbps).toBeGreaterThan(10);
    await expect(server().sip!.dial('terminal-call', { unitId: 'town-b' }, 'test')).rejects.toMatchObject({ code: 'INVALID_STATE' });

    // Its H.264 reaches the meeting through the leg's producer (ffmpeg found its SPS and copies it).
    const participantId = legOf('terminal-call', leg.id)!.participantId!;
    const camera = () => [...server().sfu.meeting('terminal-call')!.participants.get(participantId)!.producers.values()].find((producer) => producer.kind === 'video')!;
    await expect.poll(async () => (await camera().getStats())[0]?.packetCount ?? 0, { timeout: 20_000 }).toBeGreaterThan(60); // 15 fps of a still test picture: small frames

    // The chair mutes the terminal like any unit; calling it in the roll call opens its microphone.
    const microphone = () => [...server().sfu.meeting('terminal-call')!.participants.get(participantId)!.producers.values()].find((producer) => producer.kind === 'audio')!;
    await ok(chair, 'muteParticipant', { participantId, source: 'microphone' });
    expect(microphone().paused).toBe(true);
    await ok(chair, 'rollCall', { unitId: 'town-b' });
    await expect.poll(() => microphone().paused, { timeout: 5_000 }).toBe(false);

    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(server().sip!.hangup('terminal-call', leg.id)).toBe(true);
    await expect.poll(() => terminal!.output(), { timeout: 10_000 }).toMatch(/Call terminated|session closed|terminated/i);
    await terminal.stop();
    expect(baresipReceived(terminal.output(), 'video'), terminal.output().slice(-2000)).toBeGreaterThan(20);
    expect(baresipReceived(terminal.output(), 'audio'), terminal.output().slice(-2000)).toBeGreaterThan(50);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
  }, 90_000);
});
