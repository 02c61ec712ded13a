// Debian's baresip as a headless room terminal in tests: H.264 (baresip-ffmpeg) from a test-pattern
// camera, a 440 Hz tone as its microphone, what it hears written to a WAV file, RTP statistics at
// the end of each call. It either dials (`dial`) or answers every call on its own (`autoAnswer`).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BARESIP_MODULES = '/usr/lib/baresip/modules';

export interface BaresipOptions {
  /** An empty directory for its config (and heard.wav). */
  dir: string;
  /** Where it listens for SIP (UDP and TCP on 127.0.0.1). */
  sipPort: number;
  /** Its account, e.g. `"甲县会议室终端" <sip:county-a-room@127.0.0.1>`. */
  account: string;
  /** Dials this URI at start. */
  dial?: string;
  /** Answers incoming calls at once. */
  autoAnswer?: boolean;
  /** More config lines, e.g. `sip_cafile <pem>` for TLS. */
  config?: string[];
}

export interface Baresip {
  process: ChildProcess;
  output(): string;
  /** A command on its stdio console, e.g. `/hangup`. */
  command(line: string): void;
  /** Ends it (quit, then SIGKILL if it lingers). */
  stop(): Promise<void>;
}

export function startBaresip(options: BaresipOptions): Baresip {
  const { dir } = options;
  writeFileSync(
    join(dir, 'config'),
    [
      `sip_listen 127.0.0.1:${options.sipPort}`,
      `module_path ${BARESIP_MODULES}`,
      'module opus.so',
      'module g722.so',
      'module g711.so',
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
      ...(options.config ?? []),
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'accounts'), `${options.account};regint=0${options.autoAnswer ? ';answermode=auto' : ''}\n`);
  let output = '';
  // -n 127.0.0.1: the loopback, where the server is (from its default interface 127.0.0.1 is unreachable).
  const args = ['-n', '127.0.0.1', '-f', dir, ...(options.dial ? ['-e', `/dial ${options.dial}`] : [])];
  const child = spawn('baresip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    process: child,
    output: () => output,
    command: (line) => child.stdin!.write(`${line}\n`),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.write('/quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Packets baresip received per medium in its end-of-call RTP summary (0 when absent). */
export function baresipReceived(output: string, medium: 'audio' | 'video'): number {
  return Number(new RegExp(`${medium}\\s+Transmit:\\s+Receive:\\s+packets:\\s+\\d+\\s+(\\d+)`).exec(output)?.[1] ?? 0);
}
