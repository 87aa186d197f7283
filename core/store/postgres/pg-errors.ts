/**
 * Which pg failures mean "the server is out of reach" rather than "the statement was wrong":
 * the first may go through on a retry once the database is back, the second never will.
 */
import { DatabaseUnreachableError, errorMessage } from '../../errors.js';

// Socket errors of node, as pg passes them on.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATEs of a server going away or not taking connections yet: class 08 (connection
// exception), admin/crash shutdown, "the database system is starting up", too many connections.
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

// pg's own words for a connection it lost or never got, which carry no code.
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i;

export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08'))
  )
    return true;
  return MESSAGES.test(err.message);
}

/** The same error, as a DatabaseUnreachableError when it is one of those. */
export function classified(err: unknown): unknown {
  return isUnreachable(err) ? new DatabaseUnreachableError(errorMessage(err)) : err;
}
