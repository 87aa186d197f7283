/** Transcript files: one per task run under `logs/tasks/`, written scrubbed. */
import { createWriteStream, existsSync, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Scrubber } from './secrets.js';

export function transcriptPath(dir: string, taskId: number, attempt: number): string {
  return join(dir, `${taskId}-${attempt}.log`);
}

export class TranscriptWriter {
  private readonly stream: WriteStream;

  constructor(
    readonly path: string,
    private readonly scrubber: Scrubber,
  ) {
    mkdirSync(join(path, '..'), { recursive: true });
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    // A transcript that cannot be written (disk full, directory removed) must not take the
    // daemon down with an unhandled 'error' event; the run and its outcome still count.
    this.stream.on('error', () => undefined);
  }

  line(text: string): void {
    this.stream.write(`${this.scrubber.scrub(text)}\n`);
  }

  /** A line from kugetsu itself, marked so it stands apart from the agent's output. */
  note(text: string): void {
    this.line(`[kugetsu] ${text}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

/** The last `n` lines of a transcript (scrubbed again on the way out: older files, newer secrets). */
export function tailLines(path: string, n: number, scrubber: Scrubber): string[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n).map((l) => scrubber.scrub(l));
}
