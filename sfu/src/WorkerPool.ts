import { EventEmitter } from 'node:events';
import mediasoup, { type types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.js';
import { SfuError } from './errors.js';
import { WorkerLoad, type WorkerStats } from './WorkerLoad.js';

/** One place in the pool: a worker, its own slice of the RTC port range, and its load. */
interface Slot {
  index: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** The running worker's load; a replacement worker starts a new one. */
  load?: WorkerLoad;
  /** Resolves when a (re)started worker is ready. */
  ready?: Promise<WorkerLoad>;
}

export interface WorkerPoolEvents {
  workerdied: [index: number, pid: number, error: Error];
  workerreplaced: [index: number, worker: ms.Worker];
}

const RESTART_DELAYS_MS = [0, 500, 2000, 5000];

/**
 * Keeps `numWorkers` mediasoup workers running and counts what each carries. A worker that dies
 * is logged and replaced on the same port slice; its routers die with it (their owners see
 * `workerclose`). Work goes to the live worker with the least load (see WorkerLoad.weight).
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
    }));
  }

  static async create(config: SfuConfig, logger: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(config, logger);
    await Promise.all(pool.slots.map((slot) => pool.start(slot)));
    return pool;
  }

  /** Workers currently alive. */
  get workers(): ms.Worker[] {
    return this.loads().map((load) => load.worker);
  }

  get size(): number {
    return this.slots.length;
  }

  /** What each live worker carries, in pool order. */
  stats(): WorkerStats[] {
    return this.loads().map((load) => load.stats());
  }

  /** The live worker with the least load (the first of equals), or undefined while none is alive. */
  leastLoaded(): ms.Worker | undefined {
    return this.leastLoadedLoad()?.worker;
  }

  /**
   * Counts a participant placed on `worker` until the returned function is called. A worker that
   * has died carries nothing: its count is dropped with it.
   */
  addParticipant(worker: ms.Worker): () => void {
    const load = this.loadOf(worker);
    return load ? load.addParticipant() : () => undefined;
  }

  /** The least-loaded live worker, waiting for a restarting one while none is alive. */
  async worker(): Promise<ms.Worker> {
    return (this.leastLoadedLoad() ?? (await this.anyRestarting())).worker;
  }

  /** Creates a router on `worker`, or on the one worker() picks. */
  async createRouter(mediaCodecs: ms.RtpCodecCapability[], worker?: ms.Worker): Promise<ms.Router> {
    if (this.closed) throw new SfuError('INVALID_STATE', 'worker pool is closed');
    const target = worker ?? (await this.worker());
    const load = this.loadOf(target);
    if (!load) throw new SfuError('INVALID_STATE', `worker ${target.pid} has died; place the router on a live worker`);
    const router = await target.createRouter({ mediaCodecs });
    load.watch(router);
    return router;
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.load?.worker.close();
  }

  private loads(): WorkerLoad[] {
    return this.slots.flatMap((slot) => (slot.load && !slot.load.worker.closed ? [slot.load] : []));
  }

  private loadOf(worker: ms.Worker): WorkerLoad | undefined {
    return this.loads().find((load) => load.worker === worker);
  }

  private leastLoadedLoad(): WorkerLoad | undefined {
    let least: WorkerLoad | undefined;
    for (const load of this.loads()) if (!least || load.weight < least.weight) least = load;
    return least;
  }

  private anyRestarting(): Promise<WorkerLoad> {
    if (this.closed) throw new SfuError('INVALID_STATE', 'worker pool is closed');
    const restarting = this.slots.find((slot) => slot.ready)?.ready;
    if (!restarting) throw new SfuError('INVALID_STATE', 'no mediasoup worker is running or restarting; restart the server');
    return restarting;
  }

  private start(slot: Slot): Promise<WorkerLoad> {
    slot.ready = this.spawnWithRetry(slot).then((worker) => {
      slot.load = new WorkerLoad(worker);
      slot.ready = undefined;
      return slot.load;
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
      slot.load = undefined; // its routers have closed already
      this.logger.error({ err: error, workerIndex: slot.index, pid: worker.pid }, 'mediasoup worker died; replacing it');
      this.emit('workerdied', slot.index, worker.pid, error);
      if (this.closed) return;
      this.start(slot).then(
        (replacement) => this.emit('workerreplaced', slot.index, replacement.worker),
        (err) => this.logger.fatal({ err, workerIndex: slot.index }, 'mediasoup worker could not be replaced'),
      );
    });
    return worker;
  }
}
