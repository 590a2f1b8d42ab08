/**
 * CPU time and resident memory of another process, read from Linux /proc, so
 * the bench can charge a call's cost to the side that spent it.
 */
import { readFileSync } from "node:fs";

// USER_HZ is 100 on every Linux the project targets (the kernel ABI fixes it
// for /proc/<pid>/stat regardless of CONFIG_HZ).
const clockTicksPerSecond = 100;

/** User + system CPU time consumed so far by process `pid`, in microseconds (10 ms resolution). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clockTicksPerSecond;
}

/** Resident set size of process `pid`, in bytes (VmRSS from /proc/<pid>/status). */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`processRssBytes: /proc/${pid}/status has no VmRSS line; is the process a zombie?`);
  return Number(match[1]) * 1024;
}
