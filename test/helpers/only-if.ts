import { it } from 'vitest';

/**
 * Registers a case only where it applies (one agent, one store engine): a case that does not
 * apply is not a test there, and reporting it as skipped would hide a real skip among them.
 */
export function onlyIf(applies: boolean): typeof it | ((...args: Parameters<typeof it>) => void) {
  return applies ? it : () => undefined;
}
