import type { KugetsuEvent } from '../domain.js';

/** Where events go (the daemon log; an interface, such as the bot in bot/). Deliver or throw. */
export interface NotificationSink {
  /** Stable name: the store keeps each sink's delivery cursor under it. */
  readonly name: string;
  deliver(event: KugetsuEvent): Promise<void>;
  /**
   * True while another process delivers for this sink (a fleet's bot leader): its cursor is
   * left where it is, for that one to advance.
   */
  standsAside?(): boolean;
}
