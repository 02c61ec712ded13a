// Starts the SIP benchmark's load generator (sipLoad.ts) as a child Node process: its sources are
// transpiled to JavaScript in a temp directory (they import only Node built-ins and each other),
// and it talks over IPC (advanced serialization, so clips travel as buffers).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import type { LoadClips, LoadCommand, LoadEvent, LoadReport } from './sipLoad.js';

const SOURCES = ['sipLoad.ts', 'clipCursor.ts', 'mediaClips.ts', 'RtpReceiver.ts'];
const STOP_TIMEOUT_MS = 5_000;

export class SipLoadProcess {
  private readonly waiting: ((event: LoadEvent) => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly ready: Extract<LoadEvent, { type: 'ready' }>,
  ) {
    child.on('message', (event: LoadEvent) => this.waiting.shift()?.(event));
  }

  static async start(legs: number, clips: LoadClips): Promise<SipLoadProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'cityconf-bench-sip-load-'));
    for (const source of SOURCES) {
      const text = readFileSync(new URL(source, import.meta.url), 'utf8');
      const { outputText } = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
      writeFileSync(join(dir, source.replace(/\.ts$/, '.js')), outputText);
    }
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const child = fork(join(dir, 'sipLoad.js'), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<LoadEvent>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`the SIP load generator exited (code ${code}) before it was ready`)));
      child.send({ type: 'init', legs, clips } satisfies LoadCommand);
    });
    if (ready.type !== 'ready') throw new Error(`the SIP load generator said ${ready.type} first`);
    return new SipLoadProcess(child, dir, ready);
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(command: Exclude<LoadCommand, { type: 'init' | 'report' | 'stop' }>): void {
    this.child.send(command);
  }

  /** What the streams did while [from, to] (epoch ms). */
  report(from: number, to: number): Promise<LoadReport> {
    return new Promise((resolve, reject) => {
      this.waiting.push((event) => (event.type === 'report' ? resolve(event.report) : reject(new Error(`expected a report, got ${event.type}`))));
      this.child.send({ type: 'report', from, to } satisfies LoadCommand);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.send({ type: 'stop' } satisfies LoadCommand);
      const timeout = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timeout);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
