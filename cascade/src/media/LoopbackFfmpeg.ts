import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegProcess, receiveSdp, releasePortPair, reservePortPair, udpPortsBound, DEFAULT_BRIDGE_PORTS, type ReceiveStream } from '@cityconf/sfu';
import type { Logger } from 'pino';

export interface LoopbackFfmpegOptions {
  jobId: string;
  /** The RTP streams ffmpeg reads (their `port` is chosen here), or none for a synthetic input. */
  inputs: Omit<ReceiveStream, 'port'>[];
  /** ffmpeg's arguments: input (when `inputs` is empty) and outputs; `sdp` is the input file to read. */
  args: (sdp: string | undefined) => string[];
  logger: Logger;
  bridgePorts?: { min: number; max: number };
  ffmpegPath?: string;
}

const LISTEN_TIMEOUT_MS = 10_000;

/**
 * An ffmpeg that reads RTP Node sends it on the loopback (through an SDP file) and writes RTP back
 * to a Node socket: its ports and temp files are its own. `exited` says when it ends on its own.
 */
export class LoopbackFfmpeg {
  private constructor(
    readonly process: FfmpegProcess,
    /** ffmpeg's RTP port of each input, in order (RTCP on + 1). */
    readonly inputPorts: number[],
    private readonly dir: string | undefined,
  ) {}

  static async start(options: LoopbackFfmpegOptions): Promise<LoopbackFfmpeg> {
    const ports: number[] = [];
    let dir: string | undefined;
    try {
      for (let index = 0; index < options.inputs.length; index++) ports.push(await reservePortPair(options.bridgePorts ?? DEFAULT_BRIDGE_PORTS));
      let sdp: string | undefined;
      if (ports.length > 0) {
        dir = await mkdtemp(join(tmpdir(), `cityconf-${options.jobId.replace(/[^\w-]/g, '_')}-`));
        sdp = join(dir, 'input.sdp');
        await writeFile(sdp, receiveSdp(options.inputs.map((input, index) => ({ ...input, port: ports[index]! }))));
      }
      const input = sdp ? ['-protocol_whitelist', 'file,udp,rtp'] : [];
      const process = new FfmpegProcess(options.jobId, [...input, ...options.args(sdp)], options.logger, { ffmpegPath: options.ffmpegPath });
      const ffmpeg = new LoopbackFfmpeg(process, ports, dir);
      if (!(await ffmpeg.listening())) {
        await ffmpeg.stop();
        throw new Error(`ffmpeg ${options.jobId} did not open its ports`);
      }
      return ffmpeg;
    } catch (error) {
      for (const port of ports) releasePortPair(port);
      if (dir) await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get exited(): FfmpegProcess['exited'] {
    return this.process.exited;
  }

  async stop(): Promise<void> {
    await this.process.stop(0);
    for (const port of this.inputPorts) releasePortPair(port);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async listening(): Promise<boolean> {
    if (this.inputPorts.length === 0) return true;
    let exited = false;
    void this.process.exited.then(() => (exited = true));
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      if (await udpPortsBound(this.inputPorts.flatMap((port) => [port, port + 1]))) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }
}
