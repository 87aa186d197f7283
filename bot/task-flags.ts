/**
 * `/delegate --agent claude --model sonnet fix the login bug`: leading flags choose the agent
 * and model of that task; the rest is the message. Pure.
 */
import { UsageError, quote } from '../core/errors.js';

export interface TaskFlags {
  agent: string | undefined;
  model: string | undefined;
  message: string;
}

const FLAG = /^--(agent|model)(?:=(\S+)|\s+(\S+))\s*/;

export function parseTaskFlags(text: string): TaskFlags {
  let rest = text.trimStart();
  const flags: TaskFlags = { agent: undefined, model: undefined, message: '' };
  for (;;) {
    if (/^--(agent|model)\s*$/.test(rest)) {
      throw new UsageError(`${rest.trim()} needs a value: ${rest.trim()} NAME what to do`);
    }
    const match = FLAG.exec(rest);
    if (match === null) break;
    const name = match[1] as 'agent' | 'model';
    if (flags[name] !== undefined) throw new UsageError(`--${name} is given twice`);
    flags[name] = match[2] ?? match[3];
    rest = rest.slice(match[0].length);
  }
  if (/^--\S/.test(rest)) {
    throw new UsageError(
      `unknown option ${quote(rest.split(/\s/)[0] ?? '')}: expected --agent or --model`,
    );
  }
  flags.message = rest;
  return flags;
}
