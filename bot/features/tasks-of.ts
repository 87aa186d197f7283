/** The task a button was pressed for, and the session it belongs to. */
import type { Context } from 'grammy';
import type { Task } from '../../core/domain.js';
import type { HomeContext } from '../../core/home-context.js';

/** The task id in the callback data a button pattern matched (`ctx.match`). */
export function pressedTaskId(ctx: Context): number {
  return Number(typeof ctx.match === 'string' ? ctx.match : (ctx.match?.[1] ?? '0'));
}

/** The task a button is about; none for 0, the id of buttons about no task. */
export async function pressedTask(
  home: Pick<HomeContext, 'store'>,
  ctx: Context,
): Promise<Task | null> {
  const id = pressedTaskId(ctx);
  return id === 0 ? null : home.store.tasks.get(id);
}
