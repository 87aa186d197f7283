/** Shell command lines as codex reports them, read as the user and the policy should read them. */

/**
 * `/bin/bash -lc 'npm test'` → `npm test`: the command the model asked for, as the user should
 * read it. Anything else is returned as it is.
 */
export function unwrapShell(command: string): string {
  const wrapped = /^(?:\/[^\s]*\/)?(?:ba|z|da)?sh\s+-l?c\s+([\s\S]+)$/.exec(command.trim());
  if (wrapped === null) return command.trim();
  const body = wrapped[1] ?? '';
  const single = /^'((?:[^']|'\\'')*)'$/.exec(body);
  if (single !== null) return (single[1] ?? '').replaceAll(`'\\''`, `'`);
  const double = /^"((?:[^"\\]|\\.)*)"$/.exec(body);
  if (double !== null) return (double[1] ?? '').replace(/\\(["\\$`])/g, '$1');
  return body;
}

/**
 * Whether a command is one of the commands the agent is given to run unasked (the PM agent's
 * `kugetsu`): that command alone, with its arguments, and nothing a shell would run besides it.
 */
export function isGivenCommand(command: string, given: readonly string[]): boolean {
  if (given.length === 0) return false;
  if (/[;&|`$()<>\n\r\\]/.test(command)) return false;
  const first = /^\s*(\S+)/.exec(command)?.[1];
  return first !== undefined && given.includes(first);
}
