// What the SIP user agent puts on the wire (decoded by tshark) and what it survives (garbage,
// truncated and malformed requests, unknown dialogs), and that close() leaves nothing running.
import { spawn, execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { answerOffer, createOffer, type LocalMedia } from '../src/sdp/index.js';
import { SipUserAgent } from '../src/ua/SipUserAgent.js';
import { freePort, runSipp } from './sipp.js';

const LOCAL: LocalMedia = { address: '127.0.0.1', audio: { port: 40000 }, video: { port: 40002 } };
const logger = pino({ level: process.env['SIP_LOG_LEVEL'] ?? 'silent' });
const run = promisify(execFile);

const open: SipUserAgent[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((ua) => ua.close()));
});

async function startAnswering(port: number): Promise<SipUserAgent> {
  const ua = await SipUserAgent.start({
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port },
      { protocol: 'tcp', host: '127.0.0.1', port },
    ],
    logger,
  });
  open.push(ua);
  ua.onInvite((incoming) => {
    const call = incoming.accept(answerOffer(incoming.offer ?? '', LOCAL).sdp);
    call.on('reinvite', (offer) => offer.accept(answerOffer(offer.offer ?? '', LOCAL).sdp));
  });
  return ua;
}

/** Sends one datagram and resolves with the first reply (undefined after `waitMs`). */
async function exchange(port: number, text: string | Buffer, waitMs = 1000): Promise<string | undefined> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address().port;
  const payload = typeof text === 'string' ? Buffer.from(text.replaceAll('{port}', String(local))) : text;
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), waitMs);
      socket.once('message', (reply) => {
        clearTimeout(timer);
        resolve(reply.toString('utf8'));
      });
      socket.send(payload, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

const sip = (...lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const OPTIONS = sip(
  'OPTIONS sip:ping@127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-options-1;rport',
  'From: <sip:probe@127.0.0.1>;tag=p1',
  'To: <sip:ping@127.0.0.1>',
  'Call-ID: options-1@test',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
  'Content-Length: 0',
);

describe('SipUserAgent on the wire', () => {
  it('survives garbage: random bytes, a truncated INVITE, a malformed request (400), an unknown dialog (481), bad TCP', async () => {
    const port = await freePort();
    await startAnswering(port);
    expect(await exchange(port, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 0xff]), 300)).toBeUndefined();
    expect(await exchange(port, 'INVITE sip:52718390@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKt\r\nFrom: <sip:a@b', 300)).toBeUndefined();

    const malformed = await exchange(
      port,
      sip(
        'INVITE sip:52718390@127.0.0.1 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bad-1',
        'From: <sip:a@127.0.0.1>;tag=b1',
        'To: <sip:52718390@127.0.0.1>',
        'Call-ID: bad-1@test',
        'CSeq: one INVITE',
        'Content-Length: 0',
      ),
    );
    expect(malformed).toMatch(/^SIP\/2\.0 400 /);

    const unknownDialog = await exchange(
      port,
      sip(
        'BYE sip:52718390@127.0.0.1 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bye-1',
        'From: <sip:a@127.0.0.1>;tag=b1',
        'To: <sip:52718390@127.0.0.1>;tag=nosuchdialog',
        'Call-ID: nosuchcall@test',
        'CSeq: 2 BYE',
        'Content-Length: 0',
      ),
    );
    expect(unknownDialog).toMatch(/^SIP\/2\.0 481 /);

    const tcp = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => tcp.on('close', () => resolve()));
    tcp.on('error', () => {});
    tcp.write('\r\n\r\n');
    const pong = await new Promise<string>((resolve) => tcp.once('data', (data) => resolve(data.toString())));
    expect(pong).toBe('\r\n');
    tcp.write('HELLO THERE\r\nnot: sip\r\n\r\n');
    await closed;

    const options = await exchange(port, OPTIONS);
    expect(options).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(options).toMatch(/\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n/);
    expect(options).toMatch(/;received=127\.0\.0\.1;rport=\d+/);
  });

  it('sends SIP and SDP that tshark decodes without malformed packets or warnings (answering a call and placing one)', async () => {
    const port = await freePort();
    const ua = await startAnswering(port);
    const directory = await mkdtemp(join(tmpdir(), 'sip-capture-'));
    const capture = join(directory, 'ua.pcapng');
    try {
      const tshark = spawn('tshark', ['-i', 'lo', '-f', `udp port ${port}`, '-w', capture], { stdio: ['ignore', 'ignore', 'pipe'] });
      await new Promise<void>((resolve, reject) => {
        tshark.once('error', reject);
        tshark.stderr.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('Capturing on')) resolve();
        });
      });
      const sippPort = await freePort();
      const result = await runSipp('invite-two-h264.xml', [`127.0.0.1:${port}`, '-s', '52718390', '-p', String(sippPort), '-mp', String(await freePort())]).result;
      expect(result.code, result.output).toBe(0);
      // Our offer, with digest credentials, to an MCU (sipp as UAS).
      const mcuPort = await freePort();
      const mcu = runSipp('mcu-answer.xml', ['-p', String(mcuPort), '-mp', String(await freePort()), '-set', 'user', 'county', '-set', 'password', 's3cret']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const call = await ua.invite(`sip:mcu@127.0.0.1:${mcuPort}`, createOffer(LOCAL).sdp, { credentials: { username: 'county', password: 's3cret' } });
      await call.sendDtmf('1');
      await call.hangup();
      expect((await mcu.result).code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stopped = new Promise((resolve) => tshark.once('close', resolve));
      tshark.kill('SIGINT');
      await stopped;

      const decode = (filter: string) => run('tshark', ['-r', capture, '-d', `udp.port==${port},sip`, '-Y', filter, '-T', 'fields', '-e', 'frame.number', '-e', 'sip.Status-Line']);
      const ours = await decode(`udp.srcport == ${port} && sip`);
      const lines = ours.stdout.trim().split('\n');
      expect(lines.some((line) => line.includes('200 OK'))).toBe(true);
      expect(lines.some((line) => line.includes('100 Trying'))).toBe(true);
      const withSdp = await decode(`udp.srcport == ${port} && sdp.media`);
      expect(withSdp.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2); // our answer and our offer
      const invites = await decode(`udp.srcport == ${port} && sip.Method == "INVITE" && sip.auth`);
      expect(invites.stdout.trim()).not.toBe('');
      const bad = await decode(`udp.srcport == ${port} && (_ws.malformed || _ws.expert.severity >= warning)`);
      expect(bad.stdout.trim()).toBe('');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('ACKs a 2xx with a Via of its own (RFC 3261 §13.2.2.4): a call between two of our user agents stays up past 64·T1', async () => {
    const T1 = 50;
    const dropped: string[] = [];
    const calleeLogger = pino({ level: 'warn' }, { write: (line: string) => void dropped.push(line) });
    const callee = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: await freePort() }], logger: calleeLogger, timers: { t1: T1 } });
    open.push(callee);
    const ended: string[] = [];
    callee.onInvite((incoming) => {
      const call = incoming.accept(answerOffer(incoming.offer ?? '', LOCAL).sdp);
      call.on('ended', (reason) => ended.push(reason));
    });
    const caller = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: await freePort() }], logger, timers: { t1: T1 } });
    open.push(caller);
    const { port } = callee.local('udp');
    const call = await caller.invite(`sip:room@127.0.0.1:${port}`, createOffer(LOCAL).sdp);
    await new Promise((resolve) => setTimeout(resolve, 64 * T1 + 1000)); // the callee hangs up at 64·T1 without our ACK
    expect(ended).toEqual([]);
    expect(call.ended).toBe(false);
    expect(dropped.filter((line) => line.includes('not valid SIP'))).toEqual([]); // every ACK had its Via
    await call.hangup();
    expect(ended).toEqual(['remote-bye']);
  });

  it('leaves no sockets or timers behind after close', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = countResources();
    const port = await freePort();
    const ua = await startAnswering(port);
    ua.keepAlive(`sip:127.0.0.1:${await freePort()}`, 1000);
    expect(await exchange(port, OPTIONS)).toMatch(/^SIP\/2\.0 200 /);
    await ua.close();
    open.splice(open.indexOf(ua), 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = countResources();
    for (const [kind, count] of Object.entries(after)) expect(count, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  });
});

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of process.getActiveResourcesInfo()) {
    if (['UDPWrap', 'TCPServerWrap', 'TCPSocketWrap', 'Timeout'].includes(resource)) counts[resource] = (counts[resource] ?? 0) + 1;
  }
  return counts;
}
