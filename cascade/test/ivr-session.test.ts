// The IVR over a real call: our SIP user agent answers another one of ours (the caller), the caller
// hears the prompts in its codec (decoded by ffmpeg), types the meeting number (and PIN) as RFC 4733
// events or SIP INFO, is asked again after a wrong number or silence, and is let in or hung up on.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DtmfSender } from '../src/media/DtmfSender.js';
import { MediaPorts, PromptPlayer, promptFile, SipInbound, type PromptName } from '../src/media/index.js';
import { payloadTypeOf, sequenceOf, ssrcOf, timestampOf } from '../src/media/rtp.js';
import { IvrSession, type IvrSessionEvents, type IvrSessionOptions, type MeetingLookup } from '../src/ivr/IvrSession.js';
import { answerOffer, createOffer, readAnswer, type AudioCodecName, type Negotiation } from '../src/sdp/index.js';
import type { SipCall } from '../src/ua/SipCall.js';
import { SipUserAgent } from '../src/ua/SipUserAgent.js';
import { mediaTestScope, recordingLogger, SIP_PORTS, sfuConfig, sleep, until } from './media.js';

const run = promisify(execFile);
const MEETING = 52718390;
const PIN = '4321';

interface CallPair {
  /** Our side: the answered call, its ports and negotiation, as the IVR gets them. */
  ours: { call: SipCall; ports: MediaPorts; negotiation: Negotiation };
  /** The caller: its call, ports and negotiation, and the audio RTP it receives. */
  caller: { call: SipCall; ports: MediaPorts; negotiation: Negotiation; audio: Buffer[] };
}

/** Decodes what the caller received (one codec's RTP payloads) to 8 kHz samples with ffmpeg. */
async function decode(codec: 'alaw' | 'mulaw' | 'g722', payloads: Buffer[]): Promise<Int16Array> {
  const dir = await mkdtemp(join(tmpdir(), 'ivr-test-'));
  try {
    const file = join(dir, `prompt.${codec}`);
    await writeFile(file, Buffer.concat(payloads));
    const input = codec === 'g722' ? ['-f', 'g722'] : ['-f', codec, '-ar', '8000', '-ac', '1'];
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...input, '-i', file, '-ar', '8000', '-ac', '1', '-f', 's16le', '-'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    return new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

async function promptSeconds(name: PromptName): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', promptFile(name)]);
  return Number(stdout.trim());
}

describe('IvrSession', () => {
  const { cleanups, openSfu } = mediaTestScope();
  const { logger } = recordingLogger();

  /** A caller (our user agent) dials sip:ivr@ our user agent, which answers it with audio only. */
  async function callIvr(codec: AudioCodecName, { telephoneEvent = true } = {}): Promise<CallPair> {
    const ourUa = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], logger });
    const callerUa = await SipUserAgent.start({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], logger, contactUser: 'terminal' });
    cleanups.push(() => Promise.all([ourUa.close(), callerUa.close()]));
    const answered = new Promise<CallPair['ours']>((resolve, reject) => {
      ourUa.onInvite(async (incoming) => {
        try {
          const ports = await MediaPorts.allocate({ address: '127.0.0.1', ports: SIP_PORTS });
          cleanups.push(() => ports.close());
          const negotiation = answerOffer(incoming.offer ?? '', { address: '127.0.0.1', audio: { port: ports.audioPort }, video: { port: ports.videoPort } });
          ports.setPeer(negotiation);
          resolve({ call: incoming.accept(negotiation.sdp), ports, negotiation });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    const callerPorts = await MediaPorts.allocate({ address: '127.0.0.1', ports: SIP_PORTS });
    cleanups.push(() => callerPorts.close());
    const offer = createOffer({ address: '127.0.0.1', audio: { port: callerPorts.audioPort, codecs: [codec], telephoneEvent } });
    const { port } = ourUa.local('udp');
    const callerCall = await callerUa.invite(`sip:ivr@127.0.0.1:${port}`, offer.sdp);
    const callerNegotiation = readAnswer(offer, callerCall.remoteSdp!);
    callerPorts.setPeer(callerNegotiation);
    const audio: Buffer[] = [];
    callerPorts.on('rtp', (kind, packet) => kind === 'audio' && audio.push(packet));
    return { ours: await answered, caller: { call: callerCall, ports: callerPorts, negotiation: callerNegotiation, audio } };
  }

  function session(pair: CallPair, options: Partial<IvrSessionOptions> & Pick<IvrSessionOptions, 'lookup'>): { ivr: IvrSession; prompts: { name: PromptName; at: number }[]; entries: IvrSessionEvents['entry'][0][] } {
    const ivr = new IvrSession({
      legId: 'ivr-test',
      ports: pair.ours.ports,
      negotiation: pair.ours.negotiation,
      call: pair.ours.call,
      checkPin: () => false,
      logger,
      ...options,
    });
    cleanups.push(() => ivr.stop());
    const prompts: { name: PromptName; at: number }[] = [];
    const entries: IvrSessionEvents['entry'][0][] = [];
    ivr.on('prompt', (name) => prompts.push({ name, at: Date.now() }));
    ivr.on('entry', (entry) => entries.push(entry));
    return { ivr, prompts, entries };
  }

  const lookup = (number: number): MeetingLookup => (number === MEETING ? 'ok' : 'unknown');

  it('PromptPlayer: plays a prompt whole in PCMA and in G.722, as one continuous stream of 20 ms packets', async () => {
    const seconds = await promptSeconds('joining');
    for (const [codec, format] of [['PCMA', 'alaw'], ['G722', 'g722']] as const) {
      const { ours, caller } = await callIvr(codec);
      const player = await PromptPlayer.open({ legId: `prompt-${codec}`, audio: ours.negotiation.audio!, ports: ours.ports, logger });
      cleanups.push(() => player.close());
      const startedAt = Date.now();
      expect(await player.play(promptFile('joining'))).toBe('played');
      expect((Date.now() - startedAt) / 1000).toBeGreaterThan(seconds - 0.5); // real time, not a burst
      await sleep(200);
      const packets = caller.audio;
      expect(new Set(packets.map(ssrcOf))).toEqual(new Set([player.ssrc]));
      expect(new Set(packets.map(payloadTypeOf))).toEqual(new Set([caller.negotiation.audio!.payloadType]));
      for (let index = 1; index < packets.length; index++) {
        expect((sequenceOf(packets[index]!) - sequenceOf(packets[index - 1]!)) & 0xffff).toBe(1);
        expect((timestampOf(packets[index]!) - timestampOf(packets[index - 1]!)) >>> 0).toBe(160); // 20 ms at the 8000 RTP clock (G.722's too)
      }
      const samples = await decode(format, packets.map((packet) => packet.subarray(12)));
      expect(samples.length / 8000).toBeGreaterThan(seconds - 0.3);
      expect(samples.length / 8000).toBeLessThan(seconds + 0.5);
      expect(rms(samples)).toBeGreaterThan(300); // speech, not silence
      await player.close();
    }
  }, 60_000);

  it('RFC 4733 (PCMA): asks again after silence and after a wrong number, a key stops the prompt, the right number + # joins', async () => {
    const pair = await callIvr('PCMA');
    expect(pair.ours.negotiation.audio?.telephoneEvent).toBeDefined();
    const { ivr, prompts, entries } = session(pair, { lookup, noInputTimeoutMs: 1000 });
    const keys: string[] = [];
    ivr.on('key', (key, path) => keys.push(`${path}:${key}`));
    const result = ivr.run();
    const dtmf = new DtmfSender(pair.caller.negotiation.audio!, pair.caller.ports);
    cleanups.push(() => dtmf.close());

    // Silence after the whole prompt: asked again with the same prompt.
    await until(() => entries.length === 1, 20_000, 'the first no-input');
    expect(entries[0]).toMatchObject({ phase: 'meeting-number', verdict: 'no-input' });
    const firstPrompt = await decode('alaw', pair.caller.audio.map((packet) => packet.subarray(12)));
    expect(firstPrompt.length / 8000).toBeGreaterThan((await promptSeconds('enter-meeting-number')) - 0.3);
    await until(() => prompts.length === 2, 5000, 'the prompt again');
    expect(prompts.map(({ name }) => name)).toEqual(['enter-meeting-number', 'enter-meeting-number']);

    // A wrong number typed over the prompt: it stops, and the caller is told and asked again.
    await sleep(500);
    await dtmf.send('12345678#');
    await until(() => prompts.length === 3, 5000, 'the wrong-number prompt');
    expect(prompts[2]!.name).toBe('wrong-meeting-number');
    expect(prompts[2]!.at - prompts[1]!.at).toBeLessThan(5000); // the 10 s prompt did not play on
    expect(keys.slice(0, 9)).toEqual([...'12345678#'].map((key) => `rfc4733:${key}`)); // each key once, not per packet

    await sleep(300);
    await dtmf.send(`${MEETING}#`);
    expect(await result).toEqual({ outcome: 'joined', meetingNumber: MEETING });
    expect(prompts.map(({ name }) => name).slice(3)).toEqual(['joining']);
    expect(entries.map(({ verdict }) => verdict)).toEqual(['no-input', 'unknown', 'ok']);
  }, 90_000);

  it('SIP INFO (G.722, no telephone-event): a meeting with a PIN asks for it, a wrong PIN again, the right one joins', async () => {
    const pair = await callIvr('G722', { telephoneEvent: false });
    expect(pair.ours.negotiation.audio?.telephoneEvent).toBeUndefined();
    expect(pair.ours.negotiation.audio?.codec.name).toBe('G722');
    const { ivr, prompts, entries } = session(pair, {
      lookup: (number) => (number === MEETING ? { pin: true } : 'unknown'),
      checkPin: (number, pin) => number === MEETING && pin === PIN,
    });
    const keys: string[] = [];
    ivr.on('key', (key, path) => keys.push(`${path}:${key}`));
    const result = ivr.run();
    await until(() => prompts.length === 1, 5000, 'the first prompt');
    await sleep(500);
    await pair.caller.call.sendDtmf(`${MEETING}#`);
    await until(() => prompts.length === 2, 5000, 'the PIN prompt');
    expect(prompts[1]!.name).toBe('enter-pin');
    await sleep(300);
    await pair.caller.call.sendDtmf('1111#');
    await until(() => prompts.length === 3, 5000, 'the PIN prompt again');
    expect(prompts[2]!.name).toBe('enter-pin');
    await sleep(300);
    await pair.caller.call.sendDtmf(`${PIN}#`);
    expect(await result).toEqual({ outcome: 'joined', meetingNumber: MEETING });
    expect(entries.map(({ phase, verdict }) => `${phase}:${verdict}`)).toEqual(['meeting-number:pin', 'pin:wrong-pin', 'pin:ok']);
    expect(keys.every((key) => key.startsWith('info:'))).toBe(true);
    const heard = await decode('g722', pair.caller.audio.map((packet) => packet.subarray(12)));
    expect(rms(heard)).toBeGreaterThan(300);
  }, 60_000);

  it('hears one DTMF path: a caller that sends every key both ways is read once; three wrong numbers give up', async () => {
    const pair = await callIvr('PCMU');
    const { ivr, prompts, entries } = session(pair, { lookup: (number) => (number === 87654321 ? 'not-started' : 'unknown') });
    const keys: string[] = [];
    ivr.on('key', (key, path) => keys.push(`${path}:${key}`));
    const result = ivr.run();
    const dtmf = new DtmfSender(pair.caller.negotiation.audio!, pair.caller.ports);
    cleanups.push(() => dtmf.close());
    await until(() => prompts.length === 1, 5000, 'the first prompt');
    await sleep(300);
    // Both paths for each key, the RTP events first: RFC 4733 is heard, the INFO copies are not.
    for (const key of '1234#') await Promise.all([dtmf.send(key), sleep(50).then(() => pair.caller.call.sendDtmf(key))]);
    await until(() => prompts.length === 2, 5000, 'the wrong-number prompt');
    expect(keys).toEqual([...'1234#'].map((key) => `rfc4733:${key}`));
    await sleep(300);
    await dtmf.send('87654321#');
    await until(() => prompts.length === 4, 15_000, 'the not-started prompts');
    expect(prompts.slice(2).map(({ name }) => name)).toEqual(['meeting-not-started', 'enter-meeting-number']);
    await dtmf.send('*99999999#'); // '*' starts over: still a wrong number
    expect(await result).toEqual({ outcome: 'gave-up', reason: 'wrong-meeting-numbers' });
    expect(entries.map(({ digits, verdict }) => `${digits}:${verdict}`)).toEqual(['1234:unknown', '87654321:not-started', '99999999:unknown']);
  }, 60_000);

  it('stops when told (the call ended), leaving no ffmpeg behind', async () => {
    const pair = await callIvr('PCMA');
    const { ivr, prompts } = session(pair, { lookup });
    const result = ivr.run();
    await until(() => prompts.length === 1 && pair.caller.audio.length > 10, 5000, 'the prompt playing');
    ivr.stop();
    expect(await result).toEqual({ outcome: 'stopped' });
  }, 30_000);

  it('SipInbound takes the IVR call ports: it adopts them as they are and closes them when it stops', async () => {
    const sfu = await openSfu(logger);
    const router = (await sfu.openMeeting('ivr-ports')).router;
    const ports = await MediaPorts.allocate({ address: '127.0.0.1', ports: SIP_PORTS });
    const inbound = new SipInbound({ legId: 'ivr-leg', router, listenIp: sfuConfig.listenIps[0]!, logger, ports });
    expect(await inbound.allocate()).toEqual({ audioPort: ports.audioPort, videoPort: ports.videoPort });
    expect(inbound.ports).toBe(ports);
    const { audioPort } = ports;
    await inbound.stop();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(audioPort, '127.0.0.1', resolve);
    });
    socket.close();
  }, 30_000);
});
