import { EventEmitter } from 'node:events';
import { statfs } from 'node:fs/promises';
import { RecordingError } from './errors.js';

export interface DiskGuardOptions {
  /** A path on the file system recordings are written to. */
  path: string;
  /** Below this many free bytes nothing more is recorded (default 1 GiB). */
  minFreeBytes?: number;
  /** How often watch() checks (ms, default 5000). */
  intervalMs?: number;
  /** How many bytes are free at `path` (default: statfs, blocks available to unprivileged users). */
  freeBytes?: (path: string) => Promise<number>;
}

export interface DiskGuardEvents {
  /** Free space fell below minFreeBytes; the guard has stopped watching. */
  low: [freeBytes: number];
}

export const DEFAULT_MIN_FREE_BYTES = 1024 ** 3;
const DEFAULT_INTERVAL_MS = 5000;

export async function statfsFreeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

/** Watches the free space under a recording; its owner stops it when the recording ends. */
export class DiskGuard extends EventEmitter<DiskGuardEvents> {
  private timer?: NodeJS.Timeout;
  private readonly minFreeBytes: number;
  private readonly freeBytes: (path: string) => Promise<number>;

  constructor(private readonly options: DiskGuardOptions) {
    super();
    this.minFreeBytes = options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
    this.freeBytes = options.freeBytes ?? statfsFreeBytes;
  }

  /** Throws DISK_FULL when there is less free space than minFreeBytes now. */
  async assertRoom(): Promise<void> {
    const free = await this.freeBytes(this.options.path);
    if (free < this.minFreeBytes) {
      throw new RecordingError('DISK_FULL', `only ${free} bytes free at ${this.options.path}; recording needs at least ${this.minFreeBytes}`);
    }
  }

  /** Checks every intervalMs until stop() or until space runs low ('low', once). */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    const free = await this.freeBytes(this.options.path).catch(() => Number.POSITIVE_INFINITY); // an unreadable disk is the writers' fault to report
    if (!this.timer || free >= this.minFreeBytes) return;
    this.stop();
    this.emit('low', free);
  }
}
