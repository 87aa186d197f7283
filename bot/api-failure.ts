/** A failed Bot API call as kugetsu reports it: one scrubbed line and Telegram's error code. */
import { GrammyError, HttpError } from 'grammy';
import { errorMessage } from '../core/errors.js';
import type { BotStop } from './restart-policy.js';

export interface ApiFailure {
  message: string;
  /** Telegram's `error_code`; null when no answer came (network, a page that is not JSON). */
  code: number | null;
}

const MAX_MESSAGE = 300;

function oneLine(text: string, scrub: (text: string) => string): string {
  // Scrub before cutting, so that a cut can never leave part of a secret behind.
  const flat = scrub(text).replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 1)}…` : flat;
}

export function describeFailure(err: unknown, scrub: (text: string) => string): ApiFailure {
  if (err instanceof GrammyError)
    return { message: oneLine(err.message, scrub), code: err.error_code };
  if (err instanceof HttpError) {
    // grammY's message names only the method; the cause says what happened. It quotes the
    // request URL, which holds the token: hence the scrubbing.
    const cause = err.error instanceof Error ? ` (${err.error.message})` : '';
    return { message: oneLine(`${err.message}${cause}`, scrub), code: null };
  }
  return { message: oneLine(errorMessage(err), scrub), code: null };
}

/** Telegram's answer `{ ok: false, … }`, worded as grammY words the error it becomes. */
export function describeRefusal(
  method: string,
  answer: { error_code: number; description: string },
  scrub: (text: string) => string,
): ApiFailure {
  return {
    message: oneLine(
      `Call to '${method}' failed! (${answer.error_code}: ${answer.description})`,
      scrub,
    ),
    code: answer.error_code,
  };
}

export function stopOf(failure: ApiFailure): BotStop {
  if (failure.code === 401) return 'unauthorized';
  if (failure.code === 409) return 'conflict';
  return 'failed';
}
