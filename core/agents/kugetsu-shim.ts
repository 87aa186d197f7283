/**
 * A `kugetsu` executable for the PM agent's PATH: a two-line sh script that runs this very
 * installation's CLI with this very Node, whatever the agent's PATH holds.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Writes `<home>/bin/kugetsu` when it differs from what it should be; returns the directory. */
export function writeKugetsuShim(home: string, cliPath: string): string {
  const dir = join(home, 'bin');
  const file = join(dir, 'kugetsu');
  const script = `#!/bin/sh\nexec ${shQuote(process.execPath)} ${shQuote(cliPath)} "$@"\n`;
  let current: string | null = null;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = null;
  }
  if (current !== script) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, script, { mode: 0o700 });
    chmodSync(temp, 0o700);
    renameSync(temp, file);
  }
  return dir;
}
