// A real SIP room terminal (Debian's baresip with H.264 from baresip-ffmpeg, a test-pattern camera
// and a sine microphone) dials the meeting's 会议号: a Chromium participant sees it in the roster,
// decodes its video and receives its audio; the terminal receives our video and audio back (its
// RTCP summary says so); it hangs up and leaves the roster.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveFfmpegCount } from '@cityconf/sfu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cascade/test/sipp';
import { BrowserMeeting, inboundStats, type Attendee } from './harness';

const BARESIP_MODULES = '/usr/lib/baresip/modules';

/** baresip as a headless room terminal: config in its own directory, no audio or video devices. */
function startBaresip(dir: string, sipPort: number, dial: string): { process: ChildProcess; output: () => string } {
  writeFileSync(
    join(dir, 'config'),
    [
      `sip_listen 127.0.0.1:${sipPort}`,
      `module_path ${BARESIP_MODULES}`,
      'module opus.so',
      'module avcodec.so',
      'module ausine.so',
      'module fakevideo.so',
      'module aufile.so',
      'module_app account.so',
      'module stdio.so',
      'module_app menu.so',
      'module rtcpsummary.so',
      'audio_source ausine,440',
      `audio_player aufile,${join(dir, 'heard.wav')}`,
      'video_source fakevideo,nil',
      'video_display fakevideo,nil',
      'video_size 320x240',
      'video_bitrate 300000',
      'video_fps 15',
      'avcodec_h264enc libx264',
      'avcodec_h264dec h264',
      'rtp_stats yes',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'accounts'), `"甲县会议室终端" <sip:county-a-room@127.0.0.1>;regint=0;audio_codecs=opus\n`);
  let output = '';
  // -n 127.0.0.1: the loopback, where the server is (from its default interface 127.0.0.1 is unreachable).
  const child = spawn('baresip', ['-n', '127.0.0.1', '-f', dir, '-e', `/dial ${dial}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output };
}

describe('a SIP room terminal', () => {
  let meeting: BrowserMeeting;
  let dir: string;
  let terminal: ReturnType<typeof startBaresip> | undefined;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('sip-e2e');
    dir = mkdtempSync(join(tmpdir(), 'cityconf-baresip-'));
  }, 60_000);

  afterAll(async () => {
    terminal?.process.kill('SIGKILL');
    await meeting?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dials the meeting number, is seen and heard in Chromium, receives the meeting, and leaves', async () => {
    const chair: Attendee = await meeting.join('city', '市政府办公室', {}, undefined, { role: 'chair', unitId: 'city' });
    const number = meeting.server.store.meetings.get('sip-e2e')!.number;
    const { port } = meeting.server.sip!.local('udp');
    terminal = startBaresip(dir, await freePort(), `sip:${number}@127.0.0.1:${port}`);

    const terminalId = async (): Promise<string | undefined> =>
      chair.page.evaluate(() => window.__cityconf!.state().participants.find((participant) => participant.name === '甲县会议室终端')?.id);
    await expect.poll(terminalId, { timeout: 20_000 }).toBeTruthy();
    const id = (await terminalId())!;
    const stats = async () => (await inboundStats(chair.page)).filter((entry) => entry.participantId === id);
    await expect
      .poll(async () => (await stats()).find((entry) => entry.kind === 'video')?.framesDecoded ?? 0, { timeout: 30_000 })
      .toBeGreaterThan(10);
    await expect.poll(async () => (await stats()).find((entry) => entry.kind === 'audio')?.packetsReceived ?? 0, { timeout: 15_000 }).toBeGreaterThan(50);

    // The terminal hangs up; its RTCP summary shows it received our video and audio.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    terminal.process.stdin!.write('/hangup\n');
    await expect.poll(terminalId, { timeout: 15_000 }).toBeUndefined();
    terminal.process.stdin!.write('/quit\n');
    await new Promise((resolve) => terminal!.process.once('exit', resolve));
    // baresip's end-of-call table: packets it sent and received per medium.
    const summary = terminal.output();
    const received = (medium: string): number => Number(new RegExp(`${medium}\\s+Transmit:\\s+Receive:\\s+packets:\\s+\\d+\\s+(\\d+)`).exec(summary)?.[1] ?? 0);
    expect(received('audio'), summary.slice(-2000)).toBeGreaterThan(50);
    expect(received('video'), summary.slice(-2000)).toBeGreaterThan(50);
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
    expect(meeting.pageErrors).toEqual([]);
  }, 120_000);
});
