// One meeting over two workers: participants spread by load, and a producer on one worker reaches
// consumers on the other through one shared pipe that follows the producer's pause and close.
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { Sfu, type mediasoupTypes as ms } from '../src/index.js';
import { testSfuConfig } from './config.js';
import { closeSockets, plainMicrophone, plainSink } from './plainRtp.js';

const config = testSfuConfig(42000, 2);

let sfu: Sfu | undefined;
afterEach(() => {
  closeSockets();
  sfu?.close();
});

async function dump(router: ms.Router) {
  const { transportIds, mapProducerIdConsumerIds } = await router.dump();
  return { transports: transportIds.length, consumersByProducer: mapProducerIdConsumerIds as Record<string, string[]> };
}

it('places each participant on the least-loaded worker, counting every meeting', async () => {
  sfu = await Sfu.create(config, pino({ level: 'silent' }));
  const [a, b] = sfu.pool.workers.map((worker) => worker.pid);
  const meeting = await sfu.openMeeting('spread');
  const participants = ['p1', 'p2', 'p3', 'p4'].map((id) => meeting.addParticipant(id));
  expect(participants.map((participant) => participant.placement.workerPid)).toEqual([a, b, a, b]);

  // Transports are load too: two on p1's worker send the next participants, of any meeting, to b.
  await participants[0]!.createTransport('send');
  await participants[0]!.createTransport('recv');
  const other = await sfu.openMeeting('other');
  expect(other.addParticipant('q1').placement.workerPid).toBe(b);
  expect(meeting.addParticipant('p5').placement.workerPid).toBe(b);

  await Promise.all(participants.map((participant) => participant.placement.router));
  const [routerA, routerB] = await Promise.all(participants.slice(0, 2).map((participant) => participant.placement.router));
  expect(meeting.router).toBe(routerA);
  expect(routerB!.rtpCapabilities).toEqual(routerA!.rtpCapabilities);
  const stats = sfu.stats();
  expect(stats.placement.spread).toEqual([
    { workerPid: a, routerId: routerA!.id, participants: 2 },
    { workerPid: b, routerId: routerB!.id, participants: 3 },
  ]);
  expect(stats.workers).toEqual([
    { pid: a, routers: 1, participants: 2, transports: 2, producers: 0, consumers: 0, pipes: 0 },
    { pid: b, routers: 2, participants: 4, transports: 0, producers: 0, consumers: 0, pipes: 0 },
  ]);
});

it('pipes a producer to the other worker once for all its consumers there, following pause and close', async () => {
  sfu = await Sfu.create(config, pino({ level: 'silent' }));
  const meeting = await sfu.openMeeting('pipes');
  const speaker = meeting.addParticipant('speaker');
  const listeners = [meeting.addParticipant('listener-1'), meeting.addParticipant('neighbour'), meeting.addParticipant('listener-2')];
  const [first, neighbour, second] = listeners;
  expect(listeners.map((participant) => participant.placement.workerPid)).toEqual([
    sfu.pool.workers[1]!.pid,
    speaker.placement.workerPid,
    sfu.pool.workers[1]!.pid,
  ]);
  const routerA = await speaker.placement.router;
  const routerB = await first!.placement.router;

  const microphone = await plainMicrophone(speaker, 0x1111);
  const sinks = await Promise.all(listeners.map((listener) => plainSink(listener)));
  expect(meeting.pipeCount).toBe(0); // nothing is piped before someone needs it

  // Two consumers on worker b at once share one pipe; one on the speaker's worker needs none.
  const consumers = await Promise.all(listeners.map((listener) => listener.consume(microphone.producer.id)));
  expect(meeting.pipeCount).toBe(1);
  expect(sfu.stats()).toMatchObject({ pipes: 1, consumers: 3 });
  expect(sfu.stats().workers.map((worker) => worker.pipes)).toEqual([0, 1]);
  const producerId = microphone.producer.id;
  const onA = await dump(routerA);
  expect(onA.transports).toBe(3); // the speaker's, the neighbour's and the pipe's
  expect(onA.consumersByProducer[producerId]).toHaveLength(2); // the neighbour's and the pipe's
  expect(onA.consumersByProducer[producerId]).toContain(consumers[1]!.id);
  expect((await dump(routerB)).consumersByProducer[producerId]?.sort()).toEqual([consumers[0]!.id, consumers[2]!.id].sort());

  await Promise.all(consumers.map((consumer) => consumer.resume()));
  await microphone.talk(50);
  for (const sink of sinks) await expect.poll(() => sink.length, { timeout: 5000 }).toBeGreaterThanOrEqual(45);

  // Pause reaches consumers behind the pipe, and a consumer made while paused starts paused.
  await speaker.producer(producerId).pause();
  await expect.poll(() => consumers.map((consumer) => consumer.producerPaused)).toEqual([true, true, true]);
  second!.consumer(consumers[2]!.id).close();
  const whilePaused = await second!.consume(producerId);
  expect(whilePaused.producerPaused).toBe(true);
  expect(meeting.pipeCount).toBe(1);
  await speaker.producer(producerId).resume();
  await expect.poll(() => [consumers[0]!.producerPaused, whilePaused.producerPaused]).toEqual([false, false]);

  // Closing the producer closes the pipe's producer and consumer on both sides, and its consumers.
  const closedByServer: string[] = [];
  for (const listener of listeners) listener.on('consumerclosed', (consumerId) => closedByServer.push(consumerId));
  speaker.closeProducer(producerId);
  await expect.poll(() => closedByServer.sort()).toEqual([consumers[0]!.id, consumers[1]!.id, whilePaused.id].sort());
  expect(meeting.pipeCount).toBe(0);
  // What stays: the speaker's and neighbour's plain transports and one pipe transport on a; the
  // listeners' two and the other pipe transport on b (kept by mediasoup for the next pipe).
  await expect.poll(() => dump(routerA)).toEqual({ transports: 3, consumersByProducer: {} });
  await expect.poll(() => dump(routerB)).toEqual({ transports: 3, consumersByProducer: {} });
  expect(sfu.stats().workers.map(({ producers, consumers: count, pipes }) => ({ producers, consumers: count, pipes }))).toEqual([
    { producers: 0, consumers: 0, pipes: 0 },
    { producers: 0, consumers: 0, pipes: 0 },
  ]);
  expect(neighbour!.consumers.size + first!.consumers.size + second!.consumers.size).toBe(0);
});
