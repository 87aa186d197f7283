import { POLICY_CATEGORIES, type PolicyCategory } from '../../../core/approvals/approval.js';
import { gateForRunningTask } from '../../../core/approvals/task-gate.js';
import { OperationError, UsageError, quote } from '../../../core/errors.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

const MAX_SUBJECT_BYTES = 16 * 1024;
const PERMISSION_CATEGORIES: readonly PolicyCategory[] = POLICY_CATEGORIES.filter(
  (c) => c !== 'question',
);

/**
 * `ask`: how an agent of its own making (KUGETSU_AGENT=command) asks for a permission or asks the
 * user a question. It blocks until the first answer; exit 0 when allowed or answered (an answer
 * is printed), exit 1 when denied, with what the agent is told.
 */
export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('ask', argv, {
    ...JSON_FLAG,
    question: { type: 'boolean' },
    option: { type: 'string', multiple: true },
    category: { type: 'string' },
    tool: { type: 'string' },
    reason: { type: 'string' },
    task: { type: 'string' },
  });
  expectPositionals('ask', positionals, 1, 1, USAGE['ask'] ?? '');
  const subject = (positionals[0] ?? '').trim();
  if (subject === '' || Buffer.byteLength(subject) > MAX_SUBJECT_BYTES || subject.includes('\0'))
    throw new UsageError(
      `ask: say what is asked in at most ${MAX_SUBJECT_BYTES} bytes, without NUL`,
    );
  const category = (values.category ?? 'bash') as PolicyCategory;
  if (values.question !== true && !PERMISSION_CATEGORIES.includes(category))
    throw new UsageError(
      `ask: unknown category ${quote(values.category ?? '')}: one of ${PERMISSION_CATEGORIES.join(', ')}`,
    );
  const rawTask = values.task ?? process.env['KUGETSU_TASK_ID'];
  if (rawTask === undefined || !/^[1-9][0-9]{0,15}$/.test(rawTask))
    throw new UsageError(
      'ask: run it from an agent (KUGETSU_TASK_ID) or name the task with --task ID',
    );
  const options = (values.option as string[] | undefined) ?? [];
  return withHome(io, async (ctx, io) => {
    const gate = await gateForRunningTask(ctx, Number(rawTask));
    const answer = await gate.ask(
      values.question === true
        ? {
            kind: 'question',
            tool: 'ask',
            category: 'question',
            subject,
            reason: values.reason ?? null,
            options,
          }
        : {
            kind: 'permission',
            tool: values.tool ?? category,
            category,
            subject,
            reason: values.reason ?? null,
            options: [],
          },
    );
    if (values.json === true) io.json({ answer });
    if (answer.decision === 'deny') {
      if (values.json === true) return 1;
      throw new OperationError(`denied: ${answer.message}`);
    }
    if (values.json !== true)
      io.out(
        answer.decision === 'answer'
          ? answer.text
          : `allowed ${answer.scope === 'task' ? 'for the rest of the task' : 'once'}`,
      );
    return 0;
  });
}
