/**
 * Downloading what a user sent: `getFile`, then `${apiRoot}/file/bot<token>/<file_path>`. The
 * download URL carries the bot token, so it is never logged, shown or put in an error; a file
 * over the limit is refused before a byte is fetched when Telegram states its size, and cut off
 * (and removed) when it does not.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Api } from 'grammy';
import { formatBytes } from '../core/attachments.js';
import { OperationError, UsageError } from '../core/errors.js';

/** Per download; a 20 MB file over a slow link still fits. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

export class FileTooLarge extends UsageError {}

/** `size`: the file's whole size when known; null when the download was cut off at the limit. */
export function tooLarge(size: number | null, maxBytes: number): FileTooLarge {
  const what = size === null ? 'the file is' : `the file is ${formatBytes(size)},`;
  return new FileTooLarge(
    `${what} over the ${formatBytes(maxBytes)} limit (KUGETSU_ATTACHMENT_MAX_MB): nothing was queued`,
  );
}

export interface DownloadTarget {
  api: Api;
  /** `TELEGRAM_API_ROOT`, without a trailing slash. */
  apiRoot: string;
  token: string;
}

/**
 * Writes the file `fileId` to `dest` (which must not exist) and returns its size. On any
 * failure nothing is left at `dest`.
 */
export async function downloadTelegramFile(
  target: DownloadTarget,
  fileId: string,
  dest: string,
  maxBytes: number,
): Promise<number> {
  const file = await target.api.getFile(fileId);
  if (file.file_size !== undefined && file.file_size > maxBytes)
    throw tooLarge(file.file_size, maxBytes);
  if (file.file_path === undefined) {
    throw new OperationError('Telegram gave no download path for the file: send it again');
  }
  const path = file.file_path.split('/').map(encodeURIComponent).join('/');
  let response: Response;
  try {
    response = await fetch(`${target.apiRoot}/file/bot${target.token}/${path}`, {
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
    });
  } catch (err) {
    // Whatever fetch says may quote the URL: say only what kind of failure it was.
    const name = err instanceof Error ? err.name : 'error';
    throw new OperationError(`downloading the file from Telegram failed (${name}): send it again`);
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new OperationError(
      `downloading the file from Telegram failed (${response.status}): send it again`,
    );
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body.cancel();
    throw tooLarge(declared, maxBytes);
  }
  let received = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > maxBytes) done(tooLarge(null, maxBytes));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body),
      limit,
      createWriteStream(dest, { flags: 'wx', mode: 0o600 }),
    );
  } catch (err) {
    // Never remove what was there before (the caller gives a fresh path; this is a guard).
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw err;
    await rm(dest, { force: true });
    if (err instanceof UsageError) throw err;
    const name = err instanceof Error ? err.name : 'error';
    throw new OperationError(`downloading the file from Telegram failed (${name}): send it again`);
  }
  return received;
}
