// The worker patch that sizes UDP socket buffers: a pipe or plain socket carries hundreds of
// streams between workers (BENCHMARKS.md: the kernel's ~208 KiB default dropped packets at 550
// units). Each worker socket asks for 4 MiB; the kernel caps it at net.core.rmem_max / wmem_max
// and reports twice the granted size. Read back with `ss` (iproute2).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sfu } from '../src/index.js';
import { testSfuConfig } from './config.js';

const REQUESTED = 4 * 1024 * 1024;
let sfu: Sfu;

beforeAll(async () => {
  sfu = await Sfu.create(testSfuConfig(43000), pino({ level: 'silent' }));
});

afterAll(() => sfu.close());

const kernelLimit = (name: string): number => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());

it('gives worker UDP sockets 4 MiB buffers (as far as the kernel allows)', async () => {
  const meeting = await sfu.openMeeting('socket-buffers');
  const participant = meeting.addParticipant('terminal');
  const { port } = await participant.createPlainTransport('send');
  const line = execFileSync('ss', ['-u', '-a', '-n', '-m', `sport = :${port}`], { encoding: 'utf8' });
  const skmem = /skmem:\(([^)]*)\)/.exec(line)?.[1] ?? '';
  const size = (key: string): number => Number(new RegExp(`\\b${key}(\\d+)`).exec(skmem)?.[1]);
  expect(size('rb')).toBe(2 * Math.min(REQUESTED, kernelLimit('rmem_max')));
  expect(size('tb')).toBe(2 * Math.min(REQUESTED, kernelLimit('wmem_max')));
});
