// CPU of process groups this process started (ffmpeg children, a Chromium and its helpers), from
// /proc: which processes are whose children, and their CPU time over a window.
import { readdirSync, readFileSync } from 'node:fs';
import { processCpuMicros } from './resourceUsage.js';

/** Every process now, as pid → parent pid. */
function parents(): Map<number, number> {
  const result = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      result.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // it exited meanwhile
    }
  }
  return result;
}

/** The direct children of `pid` now. */
export function childPids(pid = process.pid): number[] {
  return [...parents()].filter(([, parent]) => parent === pid).map(([child]) => child);
}

/** `roots` and all their descendants now. */
export function processTree(roots: number[]): number[] {
  const byParent = new Map<number, number[]>();
  for (const [child, parent] of parents()) byParent.set(parent, [...(byParent.get(parent) ?? []), child]);
  const tree: number[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(byParent.get(pid) ?? []));
  }
  return tree;
}

/** The command line of `pid` (arguments joined by spaces), or '' if it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function cpuMicrosOf(pids: number[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const pid of pids) {
    try {
      result.set(pid, processCpuMicros(pid));
    } catch {
      // it exited meanwhile
    }
  }
  return result;
}

/**
 * CPU time used over a window by the processes `members()` names, read at the start and the end:
 * a process that appears meanwhile counts from zero, one that exits meanwhile is lost.
 */
export class GroupCpuWindow {
  private readonly start: Map<number, number>;

  constructor(private readonly members: () => number[]) {
    this.start = cpuMicrosOf(members());
  }

  /** CPU microseconds used since the start, and how many processes were counted at the end. */
  end(): { micros: number; processes: number } {
    const now = cpuMicrosOf(this.members());
    let micros = 0;
    for (const [pid, cpu] of now) micros += cpu - (this.start.get(pid) ?? 0);
    return { micros, processes: now.size };
  }
}
