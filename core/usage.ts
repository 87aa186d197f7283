/** Token usage arithmetic and its one-line rendering, shared by the store, CLI and bot. */
import type { Usage } from './domain.js';

export const ZERO_USAGE: Usage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: null,
};

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: a.costUsd === null && b.costUsd === null ? null : (a.costUsd ?? 0) + (b.costUsd ?? 0),
  };
}

/** `a - b`, never below zero (a total that restarted counts from zero). */
export function subtractUsage(a: Usage, b: Usage): Usage {
  const less = (x: number, y: number): number => Math.max(0, x - y);
  return {
    inputTokens: less(a.inputTokens, b.inputTokens),
    outputTokens: less(a.outputTokens, b.outputTokens),
    cacheReadTokens: less(a.cacheReadTokens, b.cacheReadTokens),
    cacheWriteTokens: less(a.cacheWriteTokens, b.cacheWriteTokens),
    costUsd: a.costUsd === null ? null : Math.max(0, a.costUsd - (b.costUsd ?? 0)),
  };
}

/**
 * Tokens that count against budgets: input, output and cache writes. Cache reads are left out:
 * an agent re-reads its whole context every step at a fraction of the price, and counting those
 * re-reads would exhaust any budget long before the money does.
 */
export function budgetTokens(usage: Usage): number {
  return usage.inputTokens + usage.outputTokens + usage.cacheWriteTokens;
}

export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${+(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${+(n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1)}M`;
}

/** "3.2k in, 410 out, 12k cached, $0.05". */
export function formatUsage(usage: Usage): string {
  const parts = [
    `${formatTokens(usage.inputTokens)} in`,
    `${formatTokens(usage.outputTokens)} out`,
  ];
  const cached = usage.cacheReadTokens + usage.cacheWriteTokens;
  if (cached > 0) parts.push(`${formatTokens(cached)} cached`);
  if (usage.costUsd !== null && usage.costUsd > 0)
    parts.push(`$${usage.costUsd.toFixed(usage.costUsd < 1 ? 3 : 2)}`);
  return parts.join(', ');
}
