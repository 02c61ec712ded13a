// A real SIP room terminal (Debian's baresip with H.264 from baresip-ffmpeg, a test-pattern camera
// and a sine microphone) dials the IVR (sip:ivr@host) and keys in the meeting's 会议号 and '#' as
// RFC 4733 DTMF: a Chromium participant sees it in the roster, decodes its video and receives its
// audio; the terminal receives our video and audio back (its RTCP summary says so); it hangs up and
// leaves the roster. (Dialling sip:<会议号>@host directly: signaling/test/sip-dial-in.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveFfmpegCount } from '@cityconf/sfu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baresipReceived, startBaresip, type Baresip } from '../../cascade/test/baresip';
import { freePort } from '../../cascade/test/sipp';
import { DEV_OPERATOR_API_KEY } from '../../signaling/src/config';
import { BrowserMeeting, inboundStats, type Attendee } from './harness';

describe('a SIP room terminal', () => {
  let meeting: BrowserMeeting;
  let chair: Attendee;
  const dirs: string[] = [];
  const terminals: Baresip[] = [];
  const terminal = (options: { sipPort: number; account: string; dial?: string; autoAnswer?: boolean }): Baresip => {
    const dir = mkdtempSync(join(tmpdir(), 'cityconf-baresip-'));
    dirs.push(dir);
    const started = startBaresip({ dir, ...options });
    terminals.push(started);
    return started;
  };
  const participantNamed = (name: string) => async (): Promise<string | undefined> =>
    chair.page.evaluate((wanted) => window.__cityconf!.state().participants.find((participant) => participant.name === wanted)?.id, name);
  const decodes = async (participantId: string): Promise<void> => {
    const stats = async () => (await inboundStats(chair.page)).filter((entry) => entry.participantId === participantId);
    await expect
      .poll(async () => (await stats()).find((entry) => entry.kind === 'video')?.framesDecoded ?? 0, { timeout: 30_000 })
      .toBeGreaterThan(10);
    await expect.poll(async () => (await stats()).find((entry) => entry.kind === 'audio')?.packetsReceived ?? 0, { timeout: 15_000 }).toBeGreaterThan(50);
  };

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('sip-e2e');
    chair = await meeting.join('city', '市政府办公室', {}, undefined, { role: 'chair', unitId: 'city' });
  }, 60_000);

  afterAll(async () => {
    for (const started of terminals) started.process.kill('SIGKILL');
    await meeting?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keys the meeting number into the IVR, is seen and heard in Chromium, receives the meeting, and leaves', async () => {
    const number = meeting.server.store.meetings.get('sip-e2e')!.number;
    const { port } = meeting.server.sip!.local('udp');
    const caller = terminal({ sipPort: await freePort(), account: '"甲县会议室终端" <sip:county-a-room@127.0.0.1>;audio_codecs=opus', dial: `sip:ivr@127.0.0.1:${port}` });
    await expect.poll(() => caller.output().includes('Call established'), { timeout: 15_000 }).toBe(true);
    // The IVR's prompt is playing; baresip's /sndcode sends one key (RFC 4733) and its end per command.
    for (const key of `${number}#`) {
      caller.command(`/sndcode ${key}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const terminalId = participantNamed('甲县会议室终端');
    await expect.poll(terminalId, { timeout: 30_000 }).toBeTruthy(); // after the 6 s 'joining' prompt
    await decodes((await terminalId())!);

    // The terminal hangs up; its RTCP summary shows it received our video and audio.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    caller.command('/hangup');
    await expect.poll(terminalId, { timeout: 15_000 }).toBeUndefined();
    await caller.stop();
    expect(baresipReceived(caller.output(), 'audio'), caller.output().slice(-2000)).toBeGreaterThan(50);
    expect(baresipReceived(caller.output(), 'video'), caller.output().slice(-2000)).toBeGreaterThan(50);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
    expect(meeting.pageErrors).toEqual([]);
  }, 120_000);

  it('is called from the chair console (级联与终端 → 呼叫), answers, is decoded in Chromium, and is hung up by the chair', async () => {
    const sipPort = await freePort();
    const callee = terminal({ sipPort, account: '"乙镇会议室" <sip:town-b-room@127.0.0.1>', autoAnswer: true });
    await expect.poll(() => callee.output(), { timeout: 10_000 }).toMatch(/baresip is ready/);
    const operator = { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, 'content-type': 'application/json' };
    for (const unit of [
      { id: 'city-root', name: '某某市', level: 'city', parentId: null },
      { id: 'county-a', name: '甲县', level: 'county', parentId: 'city-root' },
      { id: 'town-b', name: '乙镇人民政府', level: 'town', parentId: 'county-a', sipUri: `sip:town-b-room@127.0.0.1:${sipPort}` },
    ]) {
      const created = await fetch(`${meeting.server.url}/api/units`, { method: 'POST', headers: operator, body: JSON.stringify(unit) });
      expect(created.status, await created.text()).toBe(201);
    }

    const page = chair.page;
    if (!(await page.getByTestId('chair-console').isVisible())) await page.getByTestId('toggle-chair-console').click();
    const row = page.locator('[data-testid="chair-sip-terminal"][data-unit-id="town-b"]');
    await row.getByTestId('chair-sip-call').click({ timeout: 15_000 });
    const leg = page.getByTestId('chair-sip-leg').first();
    await expect.poll(() => leg.getAttribute('data-state'), { timeout: 20_000 }).toBe('connected');
    const terminalId = participantNamed('乙镇人民政府');
    await expect.poll(terminalId, { timeout: 10_000 }).toBeTruthy();
    await decodes((await terminalId())!);
    // The console shows what is flowing: codecs and bit rates both ways.
    await expect.poll(() => leg.getByTestId('chair-sip-leg-figures').textContent(), { timeout: 10_000 }).toMatch(/H\.264/);

    await leg.getByTestId('chair-sip-hangup').click();
    await page.getByTestId('sip-hangup-confirm-button').click();
    await expect.poll(terminalId, { timeout: 15_000 }).toBeUndefined();
    await expect.poll(() => callee.output(), { timeout: 10_000 }).toMatch(/terminated/i);
    await callee.stop();
    expect(baresipReceived(callee.output(), 'video'), callee.output().slice(-2000)).toBeGreaterThan(20);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
    expect(meeting.pageErrors).toEqual([]);
  }, 120_000);
});
