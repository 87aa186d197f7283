/**
 * What a failed fetch or push means to the task: a server that refused kugetsu's credentials
 * (no retry helps until the token is fixed) told apart from the rest.
 */
import { OperationError, errorMessage } from '../errors.js';
import { GitError } from './git.js';
import type { WorkspaceTarget } from './workspaces.js';

/** The server refused git's credentials: no retry helps until the token is fixed. */
export class CredentialsError extends OperationError {
  override readonly permanent = true;
}

const AUTH_FAILURE =
  /authentication failed|could not read username|terminal prompts disabled|\b40[13]\b/i;

/** The error for a failed fetch or push: a refused token is told apart from the rest. */
export function gitFailure(target: WorkspaceTarget, what: string, err: unknown): OperationError {
  const detail = errorMessage(err);
  const stderr = err instanceof GitError ? err.stderr : detail;
  if (AUTH_FAILURE.test(stderr) && target.server.kind !== 'git') {
    const token = target.server.tokenEnv === null ? 'its token' : target.server.tokenEnv;
    return new CredentialsError(
      `server ${target.server.name} refused kugetsu's credentials to ${what} ${target.repoPath}: check ${token}`,
    );
  }
  return new OperationError(
    `cannot ${what} ${target.repoPath} with server ${target.server.name}: ${detail}`,
  );
}
