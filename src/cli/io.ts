/** Output for commands: plain text for people, one JSON document with --json. */
import type { Scrubber } from '../../core/secrets.js';

export interface Io {
  /** A line. */
  out(text: string): void;
  /** Raw text as it streams (transcripts). */
  write(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  /** Whether stdout is a terminal (progress and colour only then). */
  readonly tty: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  write: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(`${text}\n`),
  json: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  tty: process.stdout.isTTY === true,
};

export function scrubbingIo(io: Io, scrubber: Scrubber): Io {
  const scrub = (text: string): string => scrubber.scrub(text);
  return {
    out: (text) => io.out(scrub(text)),
    write: (text) => io.write(scrub(text)),
    err: (text) => io.err(scrub(text)),
    json: (value) => io.out(scrub(JSON.stringify(value, null, 2))),
    tty: io.tty,
  };
}

/** Left-aligned columns, the last one unpadded. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
