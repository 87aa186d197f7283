import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';

/** MB of memory available for new processes (MemAvailable on Linux), or null if unknown. */
export function availableMemoryMb(): number | null {
  try {
    const match = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match?.[1] !== undefined) return Math.floor(Number(match[1]) / 1024);
  } catch {
    // Not Linux: fall through to the portable estimate.
  }
  const free = freemem();
  return free > 0 ? Math.floor(free / 1024 / 1024) : null;
}
