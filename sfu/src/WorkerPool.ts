import { EventEmitter } from 'node:events';
import mediasoup, { type types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.js';

/** One place in the pool: a worker, its own slice of the RTC port range, and its load. */
interface Slot {
  index: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  worker?: ms.Worker;
  /** Resolves when a (re)started worker is ready. */
  ready?: Promise<ms.Worker>;
  routers: number;
}

export interface WorkerPoolEvents {
  workerdied: [index: number, pid: number, error: Error];
  workerreplaced: [index: number, worker: ms.Worker];
}

const RESTART_DELAYS_MS = [0, 500, 2000, 5000];

/**
 * Keeps `numWorkers` mediasoup workers running. A worker that dies is logged and replaced on
 * the same port slice; its routers die with it (their owners see `workerclose`). New routers
 * go to the worker with the fewest routers.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly slots: Slot[];
  private closed = false;

  private constructor(
    private readonly config: SfuConfig,
    private readonly logger: Logger,
  ) {
    super();
    const { numWorkers, rtcMinPort, rtcMaxPort } = config;
    const span = Math.floor((rtcMaxPort - rtcMinPort + 1) / numWorkers);
    if (numWorkers < 1 || span < 10) {
      throw new RangeError(
        `rtc port range ${rtcMinPort}-${rtcMaxPort} is too small for ${numWorkers} workers: give each worker at least 10 ports`,
      );
    }
    this.slots = Array.from({ length: numWorkers }, (_, index) => ({
      index,
      rtcMinPort: rtcMinPort + index * span,
      rtcMaxPort: rtcMinPort + (index + 1) * span - 1,
      routers: 0,
    }));
  }

  static async create(config: SfuConfig, logger: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(config, logger);
    await Promise.all(pool.slots.map((slot) => pool.start(slot)));
    return pool;
  }

  /** Workers currently alive. */
  get workers(): ms.Worker[] {
    return this.slots.flatMap((slot) => (slot.worker && !slot.worker.closed ? [slot.worker] : []));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Creates a router on the least-loaded live worker (waiting for a restarting one if needed). */
  async createRouter(mediaCodecs: ms.RtpCodecCapability[]): Promise<ms.Router> {
    if (this.closed) throw new Error('worker pool is closed');
    const slot = [...this.slots].sort((a, b) => Number(!a.worker) - Number(!b.worker) || a.routers - b.routers)[0]!;
    const worker = slot.worker ?? (await slot.ready!);
    const router = await worker.createRouter({ mediaCodecs });
    slot.routers++;
    router.observer.once('close', () => slot.routers--);
    return router;
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.worker?.close();
  }

  private start(slot: Slot): Promise<ms.Worker> {
    slot.ready = this.spawnWithRetry(slot).then((worker) => {
      slot.worker = worker;
      slot.ready = undefined;
      return worker;
    });
    return slot.ready;
  }

  private async spawnWithRetry(slot: Slot): Promise<ms.Worker> {
    let lastError: unknown;
    for (const delay of RESTART_DELAYS_MS) {
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.closed) throw new Error('worker pool is closed');
      try {
        return await this.spawn(slot);
      } catch (error) {
        lastError = error;
        this.logger.error({ err: error, workerIndex: slot.index }, 'mediasoup worker failed to start');
      }
    }
    throw lastError;
  }

  private async spawn(slot: Slot): Promise<ms.Worker> {
    const worker = await mediasoup.createWorker({
      logLevel: this.config.workerLogLevel,
      rtcMinPort: slot.rtcMinPort,
      rtcMaxPort: slot.rtcMaxPort,
    });
    this.logger.info(
      { workerIndex: slot.index, pid: worker.pid, rtcMinPort: slot.rtcMinPort, rtcMaxPort: slot.rtcMaxPort },
      'mediasoup worker started',
    );
    worker.on('died', (error: Error) => {
      slot.worker = undefined; // its routers have closed already, decrementing slot.routers
      this.logger.error({ err: error, workerIndex: slot.index, pid: worker.pid }, 'mediasoup worker died; replacing it');
      this.emit('workerdied', slot.index, worker.pid, error);
      if (this.closed) return;
      this.start(slot).then(
        (replacement) => this.emit('workerreplaced', slot.index, replacement),
        (err) => this.logger.fatal({ err, workerIndex: slot.index }, 'mediasoup worker could not be replaced'),
      );
    });
    return worker;
  }
}
