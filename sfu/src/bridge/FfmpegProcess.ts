import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when ffmpeg could not be started at all (e.g. not installed). */
  error?: Error;
}

/** How long stop() waits after SIGTERM (ffmpeg finishing its output file) before SIGKILL (ms). */
export const FFMPEG_STOP_GRACE_MS = 5000;
const COMMON_ARGS = ['-hide_banner', '-loglevel', 'warning', '-nostdin'];

/** Every ffmpeg this process started that has not exited; killed when this process exits. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** ffmpeg processes started here and still running. */
export function liveFfmpegCount(): number {
  return live.size;
}

/**
 * One ffmpeg run for a job: its stderr goes line by line to the logger tagged with the job id,
 * and it never outlives this process.
 */
export class FfmpegProcess {
  readonly exited: Promise<FfmpegExit>;
  private readonly child: ChildProcess;
  private stopping?: Promise<FfmpegExit>;

  constructor(
    readonly jobId: string,
    args: string[],
    logger: Logger,
    ffmpegPath = 'ffmpeg',
  ) {
    const log = logger.child({ jobId });
    this.child = spawn(ffmpegPath, [...COMMON_ARGS, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(this.child);
    createInterface({ input: this.child.stderr! }).on('line', (line) => log.warn({ ffmpeg: line }, 'ffmpeg says'));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        log.info({ code, signal }, 'ffmpeg exited');
        resolve({ code, signal });
      });
      this.child.once('error', (error) => {
        if (this.child.pid !== undefined) return; // a failed kill(); 'exit' still follows
        live.delete(this.child);
        log.error({ err: error }, 'ffmpeg could not start');
        resolve({ code: null, signal: null, error });
      });
    });
    log.info({ pid: this.child.pid, args }, 'ffmpeg started');
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM (ffmpeg finishes its output), then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs = FFMPEG_STOP_GRACE_MS): Promise<FfmpegExit> {
    this.stopping ??= (async () => {
      if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return this.exited;
      this.child.kill('SIGTERM');
      const escalation = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(escalation);
      }
    })();
    return this.stopping;
  }
}
