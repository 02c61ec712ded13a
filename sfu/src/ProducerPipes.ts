import type { types as ms } from 'mediasoup';

/**
 * A meeting's producers piped into its other routers: one pipe per (producer, target router),
 * made when a consumer on that router first needs it and shared by every later one; concurrent
 * requests share the pipe being made.
 *
 * mediasoup owns the pipe's lifecycle: the pipe consumer on the source router closes with its
 * producer and closes the pipe producer on the target (whose consumers then see `producerclose`);
 * it forwards the producer's pause and resume to the pipe producer. Either router closing closes
 * the pipe too. The pipe transport pair between two routers is kept by mediasoup for later pipes
 * and closes with either router.
 */
export class ProducerPipes {
  private readonly pipes = new Map<string, Promise<ms.Producer>>();

  /** Pipes `producer` from `source` into `target` unless it is piped there already; resolves with it on `target`. */
  async pipe(producer: ms.Producer, source: ms.Router, target: ms.Router): Promise<ms.Producer> {
    if (source === target) return producer;
    const key = `${producer.id} ${target.id}`;
    return this.pipes.get(key) ?? this.open(key, producer, source, target);
  }

  /** Pipes open or being made. */
  get size(): number {
    return this.pipes.size;
  }

  private open(key: string, producer: ms.Producer, source: ms.Router, target: ms.Router): Promise<ms.Producer> {
    const forget = (): void => {
      if (this.pipes.get(key) === made) this.pipes.delete(key);
    };
    const made = source.pipeToRouter({ producerId: producer.id, router: target }).then((result) => {
      const pipeProducer = result.pipeProducer!; // given for a producerId
      if (pipeProducer.closed) forget();
      else pipeProducer.observer.once('close', forget);
      return pipeProducer;
    });
    made.catch(forget);
    this.pipes.set(key, made);
    return made;
  }
}
