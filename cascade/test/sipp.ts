// Runs Debian's sipp on a copy of a scenario in a temporary directory (its trace files land
// there, not in the repository) and reports its exit code and error log.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));

export interface SippResult {
  code: number | null;
  output: string;
  /** The -trace_err log: what sipp saw that it did not expect. */
  errors: string;
}

export interface SippRun {
  result: Promise<SippResult>;
  kill(): void;
}

/** A port free for both UDP and TCP on 127.0.0.1. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: taken } = server.address() as net.AddressInfo;
        server.close(() => resolve(taken));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/** `sipp -sf <scenario> <args> -m 1 -nostdin -trace_err -timeout 20s -timeout_error -i 127.0.0.1`. */
export function runSipp(scenario: string, args: string[]): SippRun {
  let child: ReturnType<typeof spawn> | undefined;
  let killed = false;
  const result = (async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sipp-'));
    try {
      await copyFile(join(SCENARIOS, scenario), join(directory, scenario));
      const argv = ['-sf', scenario, ...args, '-m', '1', '-nostdin', '-trace_err', '-timeout', '20s', '-timeout_error', '-i', '127.0.0.1'];
      let output = '';
      const code = await new Promise<number | null>((resolve, reject) => {
        child = spawn('sipp', argv, { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] });
        if (killed) child.kill('SIGKILL');
        child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('error', reject);
        child.once('close', (exitCode) => resolve(exitCode));
      });
      let errors = '';
      for (const file of await readdir(directory)) {
        if (file.endsWith('_errors.log')) errors += await readFile(join(directory, file), 'utf8');
      }
      return { code, output: output.slice(-4000), errors };
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  })();
  return {
    result,
    kill: () => {
      killed = true;
      child?.kill('SIGKILL');
    },
  };
}
