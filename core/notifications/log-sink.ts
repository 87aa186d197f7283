import type { NotificationSink } from './notification-sink.js';

/** Writes each event as one line to a logger (the daemon log). */
export function logSink(log: (line: string) => void): NotificationSink {
  return {
    name: 'log',
    deliver(event) {
      log(
        `event ${event.type} task=${event.taskId}${event.issueRef === null ? '' : ` ref=${event.issueRef}`}: ${event.message}`,
      );
      return Promise.resolve();
    },
  };
}
