/** What start, continue, resume and stop share: wait for the task and stream it, or detach. */
import { ensureDaemon } from '../../../core/daemon/daemon-control.js';
import { followTask } from '../../../core/follow-task.js';
import type { HomeContext } from '../../../core/home-context.js';
import { parseAgentName } from '../../../core/agents/registry.js';
import type { AgentName, Task } from '../../../core/domain.js';
import { expectPositionals, parse } from '../args.js';
import { daemonLauncher, withHome } from '../home.js';
import type { Io } from '../io.js';
import { messageArg } from '../message.js';
import { USAGE } from '../usage.js';

export const TASK_FLAGS = {
  json: { type: 'boolean' },
  detach: { type: 'boolean', short: 'd' },
  agent: { type: 'string' },
  model: { type: 'string' },
} as const;

/** Reports a queued task, then (unless detached) streams it to its end. Exit 0 only if it completed. */
export async function reportAndFollow(
  ctx: HomeContext,
  io: Io,
  queued: { task: Task; note: string | null },
  options: { json: boolean; detach: boolean },
): Promise<number> {
  const { task, note } = queued;
  const daemon = await ensureDaemon(ctx, daemonLauncher());
  // Quiet: only the outcome. JSON: only the document.
  const chatty = !options.json && ctx.config.verbosity !== 'quiet';
  if (options.detach) {
    if (options.json) io.json({ task, note, daemon });
    else {
      if (note !== null) io.out(note);
      io.out(`queued task #${task.id} for ${task.issueRef ?? 'the PM agent'}`);
    }
    return 0;
  }
  if (chatty) {
    if (note !== null) io.out(note);
    io.out(
      `queued task #${task.id} for ${task.issueRef ?? 'the PM agent'}; following it (Ctrl-C detaches, the task goes on)`,
    );
  }
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const final = await followTask(
      ctx,
      task.id,
      {
        text: (chunk) => {
          if (chatty) io.write(chunk);
        },
        waiting: (reason) => {
          if (chatty) io.err(`… ${reason}`);
        },
      },
      abort.signal,
    );
    if (final === null) return 1;
    if (options.json) io.json({ task: final, note });
    else if (abort.signal.aborted)
      io.out(`detached; task #${final.id} is ${final.state} (\`kugetsu logs ${final.id} -f\`)`);
    else io.out(describeEnd(final));
    if (abort.signal.aborted) return 0;
    return final.state === 'completed' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function describeEnd(task: Task): string {
  switch (task.state) {
    case 'completed':
      return `task #${task.id} completed: ${task.result ?? ''}`;
    case 'error':
      return `task #${task.id} failed: ${task.lastError ?? 'unknown error'}`;
    case 'cancelled':
      return `task #${task.id} was stopped`;
    case 'needs_input':
      return `task #${task.id} needs your input: ${task.result ?? ''}\n(answer with \`kugetsu continue ${task.issueRef ?? 'REF'} "…"\`)`;
    default:
      return `task #${task.id} is ${task.state}`;
  }
}

type Queue = (
  ctx: HomeContext,
  ref: string,
  message: string | undefined,
  options: { agent: AgentName | undefined; model: string | undefined },
) => Promise<{ task: Task; note: string | null }>;

/** A command of the form `NAME REF [MESSAGE]` that queues a task and follows it. */
export function taskCommand(
  name: 'start' | 'continue' | 'resume',
  messageRequired: boolean,
  queue: Queue,
) {
  return async (argv: string[], io: Io): Promise<number> => {
    const { values, positionals } = parse(name, argv, TASK_FLAGS);
    expectPositionals(name, positionals, messageRequired ? 2 : 1, 2, USAGE[name] ?? '');
    const [ref = '', message] = positionals;
    return withHome(io, async (ctx, io) => {
      const queued = await queue(ctx, ref, messageArg(message), {
        agent: parseAgentName(values.agent),
        model: values.model,
      });
      return reportAndFollow(ctx, io, queued, {
        json: values.json === true,
        detach: values.detach === true,
      });
    });
  };
}
