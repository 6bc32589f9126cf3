/**
 * This process's peak resident set, in MiB. Linux's getrusage maxrss survives execve (a child started by a
 * large parent reports the parent's peak), so the kernel's VmHWM, which exec resets, is read where it exists.
 */
import { readFileSync } from 'node:fs';

export function peakRssMiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}
