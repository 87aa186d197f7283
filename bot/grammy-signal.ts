import type { Bot } from 'grammy';

type GrammySignal = NonNullable<Parameters<Bot['init']>[0]>;

/**
 * grammY types its signals as the `abort-controller` polyfill's, but only listens for `abort`
 * and reads `aborted` (its client checks for `addEventListener`), which Node's own signal has.
 */
export function grammySignal(signal: AbortSignal): GrammySignal {
  return signal as unknown as GrammySignal;
}
