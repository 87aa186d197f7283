import type { NotificationSink } from './notification-sink.js';

/**
 * Writes each event as one line to a logger (the daemon log). Every worker of a fleet logs every
 * event in its own log, so each keeps a cursor of its own (`log:WORKER`).
 */
export function logSink(
  log: (line: string) => void,
  worker: string | null = null,
): NotificationSink {
  return {
    name: worker === null ? 'log' : `log:${worker}`,
    deliver(event) {
      log(
        `event ${event.type} task=${event.taskId}${event.issueRef === null ? '' : ` ref=${event.issueRef}`}: ${event.message}`,
      );
      return Promise.resolve();
    },
  };
}
