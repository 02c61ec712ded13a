import { execFile } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { dirname, extname, join, basename } from 'node:path';
import { promisify } from 'node:util';
import { FfmpegProcess } from '@cityconf/sfu';
import type { Logger } from 'pino';

const run = promisify(execFile);

export interface MediaTools {
  ffmpegPath?: string;
  ffprobePath?: string;
}

/** The file's duration in seconds as ffprobe reads it; undefined when the container does not say (or it is unreadable). */
export async function probeDurationSeconds(file: string, tools: MediaTools = {}): Promise<number | undefined> {
  try {
    const { stdout } = await run(tools.ffprobePath ?? 'ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const duration = Number(stdout.trim());
    return Number.isFinite(duration) ? duration : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites a Matroska file whose writer died before finishing it (no duration, no cues) by copying
 * its packets into a new file, which then replaces it.
 */
export async function repairMatroska(file: string, logger: Logger, tools: MediaTools = {}): Promise<void> {
  const repaired = join(dirname(file), `.${basename(file)}.repair${extname(file)}`);
  const ffmpeg = new FfmpegProcess(`repair ${basename(file)}`, ['-i', file, '-map', '0', '-c', 'copy', '-y', repaired], logger, {
    ffmpegPath: tools.ffmpegPath,
  });
  const exit = await ffmpeg.exited;
  if (exit.code !== 0) {
    await rm(repaired, { force: true });
    throw new Error(exit.error?.message ?? `ffmpeg could not repair ${basename(file)} (code ${exit.code}, signal ${exit.signal})`);
  }
  await rename(repaired, file);
}
