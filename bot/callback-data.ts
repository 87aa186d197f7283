/**
 * Inline-button payloads. Telegram allows 1–64 bytes of callback data; ours are
 * `<action>:<task id>` and stay far below that.
 */
export const BUTTON_ACTIONS = [
  'continue',
  'stop',
  'logs',
  'destroy',
  'destroy!',
  'prune',
  'prune!',
  'cancel',
] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export interface ButtonPress {
  action: ButtonAction;
  taskId: number;
}

export function encodeButton(action: ButtonAction, taskId: number): string {
  return `${action}:${taskId}`;
}

/** Parses callback data; anything not of our making is null. */
export function decodeButton(data: string): ButtonPress | null {
  const match = /^([a-z]+!?):([0-9]{1,10})$/.exec(data);
  if (match === null) return null;
  const action = match[1] as ButtonAction;
  if (!BUTTON_ACTIONS.includes(action)) return null;
  return { action, taskId: Number(match[2]) };
}

/** Matches the callback data of one action's buttons; the task id is the first group. */
export function buttonPattern(action: ButtonAction): RegExp {
  return new RegExp(`^${action}:([0-9]{1,10})$`);
}
