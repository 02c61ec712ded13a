import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when ffmpeg could not be started at all (e.g. not installed). */
  error?: Error;
}

/** How long stop() waits after SIGTERM (ffmpeg finishing its output file) before SIGKILL (ms). */
export const FFMPEG_STOP_GRACE_MS = 5000;
const COMMON_ARGS = ['-hide_banner', '-loglevel', 'warning'];
/**
 * util-linux's setpriv gives each ffmpeg a parent-death signal: if this process is killed outright
 * (kill -9, OOM), its ffmpegs are killed too instead of running on as orphans. SIGKILL, not
 * SIGTERM: a terminating ffmpeg can linger (it was seen alive 5 s later on a loaded machine), and a
 * file without its trailer loses nothing that matters — recordings are written in 1 s clusters.
 */
const SETPRIV = '/usr/bin/setpriv';
const HAS_SETPRIV = existsSync(SETPRIV);

export interface FfmpegProcessOptions {
  ffmpegPath?: string;
  /** Give ffmpeg a stdin pipe (`-i pipe:0` input); otherwise ffmpeg runs with -nostdin. */
  stdin?: boolean;
  /** Each stderr line, besides the log (e.g. to read the input's stream description). */
  onStderrLine?: (line: string) => void;
}

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
  /** ffmpeg's stdin, when asked for with `stdin: true`. */
  readonly stdin?: Writable;
  private readonly child: ChildProcess;
  private stopping?: Promise<FfmpegExit>;

  constructor(
    readonly jobId: string,
    args: string[],
    logger: Logger,
    options: FfmpegProcessOptions = {},
  ) {
    const log = logger.child({ jobId });
    const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
    const ffmpegArgs = [...COMMON_ARGS, ...(options.stdin ? [] : ['-nostdin']), ...args];
    const [command, commandArgs] = HAS_SETPRIV
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ffmpegPath, ...ffmpegArgs]]
      : [ffmpegPath, ffmpegArgs];
    this.child = spawn(command, commandArgs, { stdio: [options.stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    live.add(this.child);
    if (options.stdin) {
      this.stdin = this.child.stdin!;
      this.stdin.on('error', () => undefined); // EPIPE when ffmpeg exits first: its exit says why
    }
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      log.warn({ ffmpeg: line }, 'ffmpeg says');
      options.onStderrLine?.(line);
    });
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
