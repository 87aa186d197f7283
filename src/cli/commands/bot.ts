import { OperationError } from '../../../core/errors.js';
import type { Io } from '../io.js';

export function run(_argv: string[], _io: Io): Promise<number> {
  return Promise.reject(
    new OperationError('the Telegram bot is not yet available in this release'),
  );
}
