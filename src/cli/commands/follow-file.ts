import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** `tail -f` from the current end of a file until Ctrl-C. */
export async function followFile(path: string, write: (text: string) => void): Promise<void> {
  let offset = existsSync(path) ? statSync(path).size : 0;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  while (!abort.signal.aborted) {
    const size = existsSync(path) ? statSync(path).size : 0;
    if (size > offset) {
      const handle = await open(path, 'r');
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      await handle.close();
      offset = size;
      write(buffer.toString('utf8'));
    }
    await delay(200);
  }
}
