/**
 * Pushes stored events to every sink in order, at most once per sink and event: each sink's
 * cursor advances in the store after each delivery, so a restart neither loses nor repeats.
 * A sink that throws is retried from the same event on the next flush, and so is a store out of
 * reach: a flush never rejects, since it is fired and forgotten from everywhere an event is.
 */
import type { EventRecords } from '../store/store-interface.js';
import type { NotificationSink } from './notification-sink.js';

export class Notifier {
  private running: Promise<void> | null = null;
  private again = false;
  private ready: Promise<void>;

  constructor(
    private readonly events: EventRecords,
    private readonly sinks: readonly NotificationSink[],
    private readonly onSinkError: (sink: string, err: unknown) => void,
  ) {
    // Started at once, so "now" is when the daemon started; a failure is retried by the next flush.
    this.ready = this.begin();
  }

  /** Sinks' starting cursors; a failure is heard by the flush that awaits it, never unhandled. */
  private begin(): Promise<void> {
    const ready = this.startNewSinks();
    ready.catch(() => undefined);
    return ready;
  }

  /** A sink seen for the first time starts from now rather than replaying the whole history. */
  private async startNewSinks(): Promise<void> {
    const latest = await this.events.latestId();
    for (const sink of this.sinks)
      if ((await this.events.cursor(sink.name)) === null)
        await this.events.setCursor(sink.name, latest);
  }

  /** Delivers everything new; concurrent calls coalesce into one more pass. */
  flush(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        await this.ready;
      } catch (err) {
        this.ready = this.begin();
        for (const sink of this.sinks) this.onSinkError(sink.name, err);
        return;
      }
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
    try {
      if (sink.standsAside?.() === true) return;
      const events = await this.events.list({
        unreadOnly: false,
        afterId: (await this.events.cursor(sink.name)) ?? 0,
      });
      for (const event of events) {
        if (sink.standsAside?.() === true) return;
        await sink.deliver(event);
        await this.events.setCursor(sink.name, event.id);
      }
    } catch (err) {
      this.onSinkError(sink.name, err);
    }
  }
}
