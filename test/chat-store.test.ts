/** The store parts the chat features rely on, on a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../core/store/store.js';

describe('chat state in the store', () => {
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-chat-store-'));
    store = Store.open(join(dir, 'kugetsu.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands a pending request to exactly one taker, even across two connections', () => {
    const other = Store.open(join(dir, 'kugetsu.db'));
    try {
      store.setBotState('request:abc', 'what is going on?');
      expect(other.takeBotState('request:abc')).toBe('what is going on?');
      expect(store.takeBotState('request:abc')).toBeNull();
      expect(other.takeBotState('request:abc')).toBeNull();
      expect(store.getBotState('request:abc')).toBeNull();
    } finally {
      other.close();
    }
  });
});
