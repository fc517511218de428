import { readFile } from 'node:fs/promises';

/** What Linux's /proc says about one process: CPU used so far and its peak resident set. */
export interface ProcSample {
  /** user + system time of every thread so far. */
  readonly cpuSeconds: number;
  /** VmHWM: the peak resident set since the process started. */
  readonly peakRssMiB: number;
}

// utime and stime are counted in clock ticks; USER_HZ is 100 on every Linux architecture Node runs on.
const TICKS_PER_SECOND = 100;

/** Reads /proc/<pid>/stat and /proc/<pid>/status; fails if the process is gone. */
export async function sampleProcess(pid: number): Promise<ProcSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!hwm) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return { cpuSeconds: ticks / TICKS_PER_SECOND, peakRssMiB: Number(hwm[1]) / 1024 };
}
