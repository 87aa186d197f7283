import { startTask } from '../../../core/operations/tasks.js';
import { taskCommand } from './shared-task.js';

export const run = taskCommand('start', true, (ctx, ref, message, options) =>
  startTask(ctx, ref, message ?? '', options),
);
