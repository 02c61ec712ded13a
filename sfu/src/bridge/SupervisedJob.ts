import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** The end of a job, which every job's events include. */
export interface SupervisedJobEvents {
  /** The job could not be kept going; everything it owned is closed already. */
  failed: [reason: Error];
  /** stop() finished: everything the job owned is closed. */
  stopped: [];
}

/**
 * A long-running bridge job's ending: stop() or one failure, whichever comes first, runs
 * `release()` once; the timers the job set with `after()` are cleared before it.
 */
export abstract class SupervisedJob<Events extends SupervisedJobEvents & Record<keyof Events, unknown[]>> extends EventEmitter<Events> {
  private readonly timers = new Set<NodeJS.Timeout>();
  private ending?: Promise<void>;

  protected constructor(protected readonly logger: Logger) {
    super();
  }

  /** Whether stop() was called or the job failed. */
  protected get isEnding(): boolean {
    return this.ending !== undefined;
  }

  /** Ends the job and resolves when everything it owned is closed (after a failure: when that ending has). */
  stop(): Promise<void> {
    this.ending ??= this.end().then(() => {
      this.logger.info('job stopped');
      this.endEvents().emit('stopped');
    });
    return this.ending;
  }

  protected fail(reason: Error): void {
    if (this.ending) return;
    this.logger.error({ err: reason }, 'job failed');
    this.ending = this.end().then(() => {
      this.endEvents().emit('failed', reason);
    });
  }

  /** Closes what the job owns: its processes, transports, ports and files. */
  protected abstract release(): Promise<void>;

  /** A timer the job owns: cleared when it ends. */
  protected after(ms: number, callback: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    this.timers.add(timer);
  }

  private async end(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.release();
  }

  private endEvents(): EventEmitter<SupervisedJobEvents> {
    return this as unknown as EventEmitter<SupervisedJobEvents>;
  }
}
