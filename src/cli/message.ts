import { readFileSync } from 'node:fs';

/**
 * A MESSAGE argument of `-` is read from stdin: long prompts do not fit in argv (Linux caps
 * one argument at 128 KiB) and do not belong in shell history.
 */
export function messageArg(arg: string | undefined): string | undefined {
  return arg === '-' ? readFileSync(0, 'utf8') : arg;
}
