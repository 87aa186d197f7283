/**
 * Wake-ups across machines over LISTEN/NOTIFY: whatever makes work claimable (a task queued or
 * requeued, a slot released) NOTIFYs inside its own transaction, so the notification is sent on
 * COMMIT and never for work rolled back; a daemon on any machine listens on a dedicated
 * connection and dispatches when told. A notification is a hint, never the work itself: the
 * claim reads the queue afresh, and the sweep stays the fallback for any that is lost.
 */
import pg from 'pg';
import type { PgSql } from './pg-db.js';

/**
 * One channel per database; the payload names the schema, so homes kept in schemas of one
 * database do not wake each other.
 */
const CHANNEL = 'kugetsu_wake';

/** Sent on COMMIT of the caller's transaction; several in one transaction are sent once. */
export async function notifyWake(sql: PgSql): Promise<void> {
  await sql.run(`SELECT pg_notify('${CHANNEL}', current_schema())`);
}

export interface WakeOptions {
  /** The first wait before reconnecting after a drop; it doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface WakeSubscription {
  close(): Promise<void>;
}

/**
 * Calls `onWake` whenever work may have become claimable in `url`'s home. The connection is its
 * own (a pooled one would be handed to others between queries, and LISTEN with it). After a
 * drop it reconnects, waiting longer each time it fails, and calls `onWake` once it is back:
 * whatever was sent while it was away was lost. Resolves once listening.
 */
export async function listenForWake(
  url: string,
  onWake: () => void,
  options: WakeOptions = {},
): Promise<WakeSubscription> {
  const firstRetryMs = options.retryMs ?? 250;
  const maxRetryMs = options.maxRetryMs ?? 5_000;
  let closed = false;
  let client: pg.Client | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let retryMs = firstRetryMs;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, application_name: 'kugetsu-wake' });
    // A failed connection reports itself as an event as well; unheard, it would end the process.
    next.on('error', () => dropped(next));
    next.on('end', () => dropped(next));
    try {
      await next.connect();
      const schema = (await next.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
      next.on('notification', (msg) => {
        if (msg.channel === CHANNEL && msg.payload === schema) onWake();
      });
      await next.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await next.end().catch(() => undefined);
      throw err;
    }
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    retryMs = firstRetryMs;
  };

  const dropped = (which: pg.Client): void => {
    if (closed || client !== which) return;
    client = null;
    void which.end().catch(() => undefined);
    retry();
  };

  const retry = (): void => {
    if (closed || retryTimer !== null) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().then(
        () => {
          if (!closed) onWake();
        },
        () => {
          retryMs = Math.min(retryMs * 2, maxRetryMs);
          retry();
        },
      );
    }, retryMs);
  };

  await connect();
  return {
    close: async () => {
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      const last = client;
      client = null;
      await last?.end();
    },
  };
}
