/** Which command may act on a session in which state, and what a queued task really does. */
import { UsageError } from './errors.js';
import type { Session, TaskMode } from './domain.js';

/**
 * The mode a claimed task runs in. A `start` on a session the agent already knows continues
 * it, and on an interrupted (`left`) one resumes it; a retried attempt therefore keeps the
 * agent's own session instead of starting over.
 */
export function effectiveMode(requested: TaskMode, session: Session | null): TaskMode {
  if (session === null) return 'start';
  if (requested === 'start' && session.state === 'left') return 'resume';
  if (requested === 'start' && session.agentSessionId !== null) return 'continue';
  return requested;
}

export function assertCanContinue(ref: string, session: Session | null): void {
  if (session === null) {
    throw new UsageError(`session ${ref} not found: use \`kugetsu start ${ref} MESSAGE\` first`);
  }
}

/** Returns the message the resumed run uses: the given one, or the stored one. */
export function resumeMessage(
  ref: string,
  session: Session | null,
  message: string | undefined,
): string {
  if (session === null) throw new UsageError(`session ${ref} not found`);
  if (session.state !== 'left') {
    throw new UsageError(
      `session ${ref} is ${session.state} and cannot be resumed: only an interrupted (left) session can`,
    );
  }
  const text = message ?? session.lastMessage ?? '';
  if (text === '') throw new UsageError(`session ${ref} has no stored message: pass one`);
  return text;
}

export function assertCanStop(ref: string, session: Session | null): void {
  if (session === null) throw new UsageError(`session ${ref} not found`);
  if (session.state !== 'used') {
    throw new UsageError(`session ${ref} is not in use (${session.state}): nothing to stop`);
  }
}
