/** Secret handling (DESIGN.md §1): which keys are secret, masking for display, scrubbing text. Pure. */

export const MASK = '***MASKED***';

// `KEY` alone already covers `API_KEY`; both are listed because the design names both.
const SECRET_MARKERS = ['TOKEN', 'SECRET', 'PASSWORD', 'API_KEY', 'KEY'] as const;

export function isSecretKey(key: string): boolean {
  const upper = key.toUpperCase();
  return SECRET_MARKERS.some((marker) => upper.includes(marker));
}

export function maskValue(key: string, value: string): string {
  return isSecretKey(key) ? MASK : value;
}

// Shorter values would mask ordinary words everywhere and protect next to nothing.
const MIN_SECRET_LENGTH = 4;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces every occurrence of every known secret value in text with MASK. */
export class Scrubber {
  /** Finds whether any secret occurs at all: the common case is a line without one. */
  private readonly any: RegExp | null;
  /**
   * Finds, at every position, the longest secret starting there (a lookahead, so matches may
   * overlap). Masking the union of those spans hides overlapping secrets completely, where a plain
   * replace would leave the tail of the second one visible.
   */
  private readonly starts: RegExp | null;
  private readonly count: number;

  constructor(secrets: Iterable<string>) {
    const unique = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH);
    // Alternation takes the first alternative that matches, so longest first means longest wins.
    unique.sort((a, b) => b.length - a.length);
    this.count = unique.length;
    const alternatives = unique.map(escapeRegExp).join('|');
    this.any = unique.length === 0 ? null : new RegExp(alternatives);
    this.starts = unique.length === 0 ? null : new RegExp(`(?=(${alternatives}))`, 'g');
  }

  static empty(): Scrubber {
    return new Scrubber([]);
  }

  /** How many distinct secrets are scrubbed. */
  get size(): number {
    return this.count;
  }

  scrub(text: string): string {
    if (this.any === null || this.starts === null || !this.any.test(text)) return text;
    // Spans of secret text, merged where they overlap, in order.
    const spans: Array<[number, number]> = [];
    for (const match of text.matchAll(this.starts)) {
      const start = match.index;
      const end = start + (match[1] ?? '').length;
      const last = spans[spans.length - 1];
      if (last !== undefined && start < last[1]) last[1] = Math.max(last[1], end);
      else spans.push([start, end]);
    }
    let out = '';
    let copied = 0;
    for (const [start, end] of spans) {
      out += text.slice(copied, start) + MASK;
      copied = end;
    }
    return out + text.slice(copied);
  }
}
