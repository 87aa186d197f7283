// Server-Sent Events over fetch (EventSource cannot send an Authorization header), resumed
// with Last-Event-ID after a dropped connection so no message is missed or repeated.
import { token } from './api.js';

function parse(block) {
  const message = { event: 'message', id: null, data: [] };
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') message.event = value;
    else if (field === 'id') message.id = value;
    else if (field === 'data') message.data.push(value);
  }
  return message.data.length === 0 ? null : { ...message, data: message.data.join('\n') };
}

/**
 * Follows `path` until `close()`: each message goes to `onMessage(event, data)`; `onState`
 * hears 'live', 'reconnecting' or 'failed' (refused: it gives up). An `end` message closes it for good.
 */
export function follow(path, { onMessage, onState = () => {} }) {
  const abort = new AbortController();
  let lastId = null;
  let closed = false;
  const run = async () => {
    while (!closed) {
      try {
        const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token()}` };
        if (lastId !== null) headers['Last-Event-ID'] = lastId;
        const res = await fetch(`/api/v1${path}`, { headers, signal: abort.signal });
        // A refusal (no such task, a revoked token) does not change by asking again.
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          closed = true;
          onState('failed');
          return;
        }
        if (!res.ok || res.body === null) throw new Error(`stream: HTTP ${res.status}`);
        onState('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const message = parse(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (message === null) continue;
            if (message.id !== null) lastId = message.id;
            onMessage(message.event, JSON.parse(message.data));
            if (message.event === 'end') closed = true;
          }
        }
      } catch (err) {
        if (closed || abort.signal.aborted) return;
        onState('reconnecting', err);
      }
      if (!closed) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  void run();
  return {
    close() {
      closed = true;
      abort.abort();
    },
  };
}
