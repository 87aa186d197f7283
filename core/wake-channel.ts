/**
 * The wake-up channel: a Unix socket the daemon listens on. Any process that changes the
 * queue connects and says `wake`, so dispatch follows within milliseconds instead of the
 * next sweep. Losing a wake-up is harmless: the fallback sweep still finds the work.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';

const WAKE_TIMEOUT_MS = 500;

/** Resolves true when a daemon heard it, false when none listens. Never rejects. */
export function wakeDaemon(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(socketPath)) {
      resolve(false);
      return;
    }
    const socket = createConnection(socketPath);
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(WAKE_TIMEOUT_MS, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.end('wake\n', () => finish(true)));
  });
}

/** Listens for wake-ups; the caller must hold the daemon lock (a stale socket is replaced). */
export function listenForWakeups(socketPath: string, onWake: () => void): Promise<Server> {
  if (existsSync(socketPath)) unlinkSync(socketPath);
  const server = createServer((socket) => {
    socket.on('data', () => onWake());
    socket.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}
