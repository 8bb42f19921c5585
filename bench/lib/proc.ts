import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What /proc says about one process at one moment. */
export interface ProcSample {
  atMs: number;
  /** user + system CPU time, ms. */
  cpuMs: number;
  rssBytes: number;
  /** Bytes this process caused to be sent to the storage layer (/proc/<pid>/io write_bytes). */
  writeBytes: number;
}

let clockTicksPerSecond: number | undefined;

function ticksPerSecond(): number {
  clockTicksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicksPerSecond;
}

/** Reads /proc/<pid>/{stat,status,io}; throws if the process is gone. */
export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: fields are counted after its closing paren.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utimeTicks = Number(fields[11]);
  const stimeTicks = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const writeBytes = Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN);
  return {
    atMs: performance.now(),
    cpuMs: ((utimeTicks + stimeTicks) * 1000) / ticksPerSecond(),
    rssBytes: rssKiB * 1024,
    writeBytes,
  };
}
