// What a run costs, from /proc: CPU time of the mediasoup workers (utime + stime), of this process
// and of the whole machine, worker memory, kernel UDP drops per socket; and the live consumers on
// each worker, counted through mediasoup's observer events.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { types as ms } from 'mediasoup';

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The fields of /proc/<pid>/stat after the ")" that ends the command name (state first). */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time a process has used so far, in microseconds. */
export function processCpuMicros(pid: number): number {
  const fields = statFields(pid); // utime is field 14 of the line, stime 15
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU time of the children this process has waited for (cutime + cstime), in microseconds: what
 * a child used over its whole life, counted once it has exited and been reaped.
 */
export function reapedChildrenCpuMicros(): number {
  const fields = statFields('self'); // cutime is field 16 of the line, cstime 17
  return ((Number(fields[13]) + Number(fields[14])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory of a process now, in MiB. */
export function processRssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kib) / 1024);
}

/**
 * CPU time of the whole machine so far, in clock ticks over all cores (/proc/stat): busy, stolen
 * by the hypervisor (a VM's neighbours), and the total.
 */
function hostCpuTicks(): { busy: number; steal: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq!;
  return { busy, steal: steal!, total: busy + idle! + iowait! + steal! };
}

/** Datagrams each open UDP socket (by local port) has dropped for a full receive buffer (/proc/net/udp). */
function udpDropsByPort(): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) continue;
    const port = parseInt(fields[1]!.split(':')[1]!, 16);
    drops.set(port, (drops.get(port) ?? 0) + Number(fields.at(-1)));
  }
  return drops;
}

/** Live consumers per worker (in the order given), including those created later. */
export class ConsumerCounts {
  readonly live: number[];

  constructor(workers: ms.Worker[]) {
    this.live = workers.map(() => 0);
    workers.forEach((worker, index) => {
      worker.observer.on('newrouter', (router: ms.Router) => {
        router.observer.on('newtransport', (transport: ms.Transport) => {
          transport.observer.on('newconsumer', (consumer: ms.Consumer) => {
            this.live[index]!++;
            consumer.observer.once('close', () => this.live[index]!--);
          });
        });
      });
    });
  }
}

/** What a measured window cost. */
export interface WindowUsage {
  seconds: number;
  /** Per worker, in the order given. */
  workerCpuMicros: number[];
  /** This process (signaling server and bots). */
  processCpuMicros: number;
  /** Busy and stolen share of all cores, 0–100. */
  hostBusyPct: number;
  hostStealPct: number;
  /** Kernel drops for full receive buffers in the window, by local port. */
  udpDrops: Map<number, number>;
}

/** Takes the start readings now; end() returns the differences. */
export class UsageWindow {
  private readonly startedMs = performance.now();
  private readonly workerCpu: number[];
  private readonly processCpu = process.cpuUsage();
  private readonly host = hostCpuTicks();
  private readonly drops = udpDropsByPort();

  constructor(private readonly workerPids: number[]) {
    this.workerCpu = workerPids.map(processCpuMicros);
  }

  end(): WindowUsage {
    const processCpu = process.cpuUsage(this.processCpu);
    const host = hostCpuTicks();
    const hostTotal = host.total - this.host.total;
    const udpDrops = new Map<number, number>();
    for (const [port, drops] of udpDropsByPort()) udpDrops.set(port, drops - (this.drops.get(port) ?? 0));
    return {
      seconds: (performance.now() - this.startedMs) / 1000,
      workerCpuMicros: this.workerPids.map((pid, i) => processCpuMicros(pid) - this.workerCpu[i]!),
      processCpuMicros: processCpu.user + processCpu.system,
      hostBusyPct: ((host.busy - this.host.busy) / hostTotal) * 100,
      hostStealPct: ((host.steal - this.host.steal) / hostTotal) * 100,
      udpDrops,
    };
  }
}
