#!/usr/bin/env node
// Join benchmark: N signaling clients join one meeting over socket.io, each publishes audio +
// simulcast video and consumes everyone else's producers, against the real server and worker
// (no browser, so no RTP flows: this measures the signaling + SFU control plane).
// Prints one JSON object. Usage: npm run bench -- [join] [--participants 40] [--workers 1]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import { mintToken } from '../signaling/dist/auth/tokens.js';
import { startServer } from '../signaling/dist/server.js';

const { values } = parseArgs({
  allowPositionals: true, // the subcommand name, when run through bench/cli.mjs
  options: { participants: { type: 'string', default: '40' }, workers: { type: 'string', default: '1' } },
});
const participants = Number(values.participants);
const numWorkers = Number(values.workers);
const room = 'bench';

const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }] };
const opus = (ssrc) => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
  encodings: [{ ssrc }],
  rtcp: { cname: `c${ssrc}` },
});
const vp8 = (ssrc) => ({
  codecs: [
    { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] },
    { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } },
  ],
  encodings: [0, 2, 4].map((i) => ({ ssrc: ssrc + i, rtx: { ssrc: ssrc + i + 1 } })),
  rtcp: { cname: `c${ssrc}` },
});

/** Resident memory of a process now, from /proc (Linux). */
const rssMiB = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (ms) => Math.round(ms * 10) / 10;

const server = await startServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', sfu: { numWorkers } });
const sockets = [];
const request = async (socket, name, payload) => {
  const reply = await socket.timeout(30_000).emitWithAck(name, payload);
  if (!reply.ok) throw new Error(`${name}: ${reply.error.code} ${reply.error.message}`);
  return reply.data;
};

const joinMs = [];
const publishMs = [];
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
for (let i = 0; i < participants; i++) {
  const socket = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
  sockets.push(socket);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
  const token = await mintToken(server.config.auth, { room, identity: `unit-${i}`, name: `单位${i}` });
  const t0 = performance.now();
  const joined = await request(socket, 'join', { meetingId: room, token });
  await request(socket, 'setRtpCapabilities', { rtpCapabilities: joined.routerRtpCapabilities });
  const send = await request(socket, 'createTransport', { direction: 'send' });
  const recv = await request(socket, 'createTransport', { direction: 'recv' });
  await request(socket, 'connectTransport', { transportId: send.id, dtlsParameters });
  await request(socket, 'connectTransport', { transportId: recv.id, dtlsParameters });
  joinMs.push(performance.now() - t0);
  const t1 = performance.now();
  await request(socket, 'produce', { transportId: send.id, kind: 'audio', rtpParameters: opus(1000 + i * 10), source: 'microphone' });
  await request(socket, 'produce', { transportId: send.id, kind: 'video', rtpParameters: vp8(100000 + i * 10), source: 'camera' });
  publishMs.push(performance.now() - t1);
  for (const participant of joined.participants) {
    for (const producer of participant.producers) {
      const consumer = await request(socket, 'consume', { producerId: producer.id });
      await request(socket, 'resumeConsumer', { consumerId: consumer.id });
    }
  }
}
const setupMs = performance.now() - started;

// Everyone consumes the producers of those who joined after them.
const t2 = performance.now();
const meeting = server.sfu.meeting(room);
await Promise.all(
  sockets.map(async (socket, i) => {
    for (const [, other] of [...meeting.participants].slice(i + 1)) {
      for (const producerId of other.producers.keys()) await request(socket, 'consume', { producerId });
    }
  }),
);
const meshMs = performance.now() - t2;
const stats = server.sfu.stats();
const workerRssMiB = server.sfu.pool.workers.map((w) => rssMiB(w.pid));

const t3 = performance.now();
for (const socket of sockets) socket.close();
while (server.sfu.stats().meetings > 0) await new Promise((resolve) => setTimeout(resolve, 5));
const teardownMs = performance.now() - t3;
await server.close();

joinMs.sort((a, b) => a - b);
publishMs.sort((a, b) => a - b);
console.log(
  JSON.stringify(
    {
      benchmark: 'join',
      participants,
      workers: numWorkers,
      consumers: stats.consumers,
      joinMs: { p50: round(percentile(joinMs, 50)), p95: round(percentile(joinMs, 95)), max: round(joinMs.at(-1)) },
      publishMs: { p50: round(percentile(publishMs, 50)), p95: round(percentile(publishMs, 95)) },
      sequentialSetupMs: Math.round(setupMs),
      fullMeshConsumeMs: Math.round(meshMs),
      consumesPerSecond: Math.round(stats.consumers / ((setupMs + meshMs) / 1000)),
      teardownMs: Math.round(teardownMs),
      nodeRssDeltaMiB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
      workerRssMiB,
      workerRssKiBPerConsumer: Math.round((workerRssMiB.reduce((a, b) => a + b, 0) * 1024) / stats.consumers),
    },
    null,
    2,
  ),
);
process.exit(0);
