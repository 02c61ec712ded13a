import mediasoup, { type types as ms } from 'mediasoup';

/** What one worker carries, across every meeting routed on it. */
export interface WorkerStats {
  pid: number;
  routers: number;
  /** Participants placed on this worker (their transports live on its routers). */
  participants: number;
  /** WebRTC, plain, direct and pipe transports. */
  transports: number;
  /** Producers, not counting pipe producers. */
  producers: number;
  /** Consumers, not counting pipe consumers. */
  consumers: number;
  /** Producers piped into this worker's routers from another worker. */
  pipes: number;
}

/**
 * The load of one worker, counted by watching its routers. `weight` decides placement: a
 * participant counts from the moment it is placed, before it has transports, so that a join
 * storm spreads over the workers instead of landing on whichever looked idle first.
 */
export class WorkerLoad {
  routers = 0;
  participants = 0;
  transports = 0;
  producers = 0;
  consumers = 0;
  pipes = 0;

  constructor(readonly worker: ms.Worker) {}

  get weight(): number {
    return this.participants + this.transports + this.consumers + this.pipes;
  }

  /** Counts what is created on `router` until it closes. */
  watch(router: ms.Router): void {
    this.routers++;
    router.observer.once('close', () => this.routers--);
    router.observer.on('newtransport', (transport: ms.Transport) => {
      this.count('transports', transport);
      const piped = transport instanceof mediasoup.types.PipeTransport;
      transport.observer.on('newproducer', (producer: ms.Producer) => this.count(piped ? 'pipes' : 'producers', producer));
      transport.observer.on('newconsumer', (consumer: ms.Consumer) => {
        if (consumer.type !== 'pipe') this.count('consumers', consumer);
      });
    });
  }

  /** Counts a participant until the returned function is called (once). */
  addParticipant(): () => void {
    this.participants++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.participants--;
    };
  }

  stats(): WorkerStats {
    const { routers, participants, transports, producers, consumers, pipes } = this;
    return { pid: this.worker.pid, routers, participants, transports, producers, consumers, pipes };
  }

  private count(counter: 'transports' | 'producers' | 'consumers' | 'pipes', entity: { observer: ms.Producer['observer'] }): void {
    this[counter]++;
    entity.observer.once('close', () => this[counter]--);
  }
}
