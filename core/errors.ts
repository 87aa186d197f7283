/**
 * kugetsu's error taxonomy. Entry points map these to exit codes:
 * UsageError → 2 (the input was wrong), OperationError → 1 (the input was fine, the work failed),
 * anything else → an internal error (a bug) that prints enough to report it.
 * Messages are one line, say what was wrong, and where possible what to do next.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

export class OperationError extends Error {
  override readonly name: string = 'OperationError';
  readonly exitCode = 1;
  /**
   * Another attempt of the same work cannot succeed until a person acts (a bad setting, a
   * broken WORKFLOW.md, a refused token): the task runner gives up instead of retrying.
   */
  readonly permanent: boolean;

  constructor(message: string, options: { permanent?: boolean } = {}) {
    super(message);
    this.permanent = options.permanent ?? false;
  }
}

/**
 * The shared database did not answer (refused, dropped, restarting): nothing was wrong with the
 * work, and the same call may go through once it is back.
 */
export class DatabaseUnreachableError extends OperationError {
  override readonly name = 'DatabaseUnreachableError';

  constructor(cause: string) {
    super(`the database is out of reach: ${cause}`);
  }
}

/** Whether an error says no retry can help; anything but a permanent OperationError may pass. */
export function isPermanentError(err: unknown): boolean {
  return err instanceof OperationError && err.permanent;
}

/** The same error, marked permanent: for a step whose refusals are all settings problems. */
export function asPermanent(err: unknown): unknown {
  return err instanceof OperationError && !err.permanent
    ? new OperationError(err.message, { permanent: true })
    : err;
}

/** Quotes user input inside an error message, truncated so a 1 MB string cannot flood a terminal. */
export function quote(input: string, max = 80): string {
  const oneLine = input.replace(/[\r\n\t]+/g, ' ');
  const cut = oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
  return JSON.stringify(cut);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
