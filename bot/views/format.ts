/**
 * Telegram text, as pure functions: escaping for HTML parse mode, splitting at 4096, and the
 * small helpers every view shares (cutting, durations, terminal escapes).
 */
import { stripVTControlCharacters } from 'node:util';

export const TELEGRAM_TEXT_LIMIT = 4096;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Splits plain text into chunks of at most `limit` UTF-16 units, preferring a paragraph break,
 * then a line break, then a space, and cutting hard only when a single word is too long.
 */
export function splitText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    const at = [window.lastIndexOf('\n\n'), window.lastIndexOf('\n'), window.lastIndexOf(' ')].find(
      (i) => i > limit / 4,
    );
    const cut = at ?? limit;
    chunks.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest.trim() !== '' || chunks.length === 0) chunks.push(rest);
  return chunks;
}

/**
 * Plain text in a `<pre>` block, split so that every message, tags included, stays within
 * Telegram's limit after escaping.
 */
export function preBlocks(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const overhead = '<pre></pre>'.length;
  const out: string[] = [];
  // Escaping can grow text up to 5×; split the raw text conservatively, then re-split any
  // chunk whose escaped form is still too long.
  for (const chunk of splitText(text, Math.floor((limit - overhead) / 2))) {
    let escaped = escapeHtml(chunk);
    let raw = chunk;
    while (escaped.length + overhead > limit) {
      raw = raw.slice(0, Math.floor(raw.length / 2));
      escaped = escapeHtml(raw);
    }
    out.push(`<pre>${escaped}</pre>`);
    if (raw.length < chunk.length) out.push(...preBlocks(chunk.slice(raw.length), limit));
  }
  return out;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** `text`, cut to `max` characters with an ellipsis when longer. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A transcript line as a chat shows it: without the colours and cursor moves of a terminal. */
export function plainLine(line: string): string {
  return stripVTControlCharacters(line);
}
