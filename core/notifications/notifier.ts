/**
 * Pushes stored events to every sink in order, at most once per sink and event: each sink's
 * cursor advances in the store after each delivery, so a restart neither loses nor repeats.
 * A sink that throws is retried from the same event on the next flush.
 */
import type { Store } from '../store/store.js';
import type { NotificationSink } from './notification-sink.js';

export class Notifier {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly store: Store,
    private readonly sinks: readonly NotificationSink[],
    private readonly onSinkError: (sink: string, err: unknown) => void,
  ) {
    // A sink seen for the first time starts from now rather than replaying the whole history.
    const latest = store.latestEventId();
    for (const sink of sinks)
      if (store.sinkCursor(sink.name) === null) store.setSinkCursor(sink.name, latest);
  }

  /** Delivers everything new; concurrent calls coalesce into one more pass. */
  flush(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        for (const sink of this.sinks) await this.flushSink(sink);
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async flushSink(sink: NotificationSink): Promise<void> {
    const events = this.store.listEvents({
      unreadOnly: false,
      afterId: this.store.sinkCursor(sink.name) ?? 0,
    });
    for (const event of events) {
      try {
        await sink.deliver(event);
      } catch (err) {
        this.onSinkError(sink.name, err);
        return;
      }
      this.store.setSinkCursor(sink.name, event.id);
    }
  }
}
