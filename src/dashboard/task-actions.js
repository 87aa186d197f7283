// What can be done to a task or a session, with a confirmation for anything that stops work.
import { post } from './api.js';
import { act, ask, confirmAction } from './ui.js';

const AGENTS = ['', 'opencode', 'claude', 'codex', 'command'];
const agentField = { name: 'agent', label: 'Agent', type: 'select', options: AGENTS };

function withAgent(body, values) {
  return values.agent === '' ? body : { ...body, agent: values.agent };
}

export async function delegateTask() {
  const values = await ask('Delegate', {
    detail: 'A message naming an issue (e.g. "fix #12") starts it; any other goes to the PM agent.',
    fields: [{ name: 'message', label: 'Message', type: 'textarea', required: true }, agentField],
    confirm: 'Delegate',
  });
  if (values === null) return;
  await act(
    'delegate',
    () => post('/tasks', withAgent({ message: values.message }, values)),
    (r) => `queued task #${r.taskId} (${r.route === 'pm' ? 'PM agent' : r.task.issueRef})`,
  );
}

/** start, continue or resume: `ref` given for a session's own buttons. */
export async function queueWork(mode, ref = '') {
  const values = await ask(`${mode[0].toUpperCase()}${mode.slice(1)}`, {
    fields: [
      { name: 'ref', label: 'Issue', value: ref, required: true },
      {
        name: 'message',
        label: mode === 'resume' ? 'Message (empty: the stored one)' : 'Message',
        type: 'textarea',
        required: mode !== 'resume',
      },
      agentField,
    ],
    confirm: mode,
  });
  if (values === null) return;
  const body = withAgent({ ref: values.ref }, values);
  if (values.message !== '') body.message = values.message;
  await act(
    mode,
    () => post(`/tasks/${mode}`, body),
    (r) => `queued task #${r.task.id}`,
  );
}

export async function stopTask(task) {
  const what = task.issueRef ?? `task #${task.id}`;
  const ok = await confirmAction(
    `Stop ${what}?`,
    'The agent is stopped and the task ends cancelled; the session and its work are kept.',
    'Stop',
    true,
  );
  if (ok === null) return;
  await act(`stop ${what}`, () =>
    task.issueRef === null
      ? post(`/tasks/${task.id}/cancel`)
      : post('/tasks/stop', { ref: task.issueRef }),
  );
}

export async function cancelTask(task) {
  const ok = await confirmAction(`Cancel task #${task.id}?`, task.message, 'Cancel task', true);
  if (ok !== null) await act(`cancel #${task.id}`, () => post(`/tasks/${task.id}/cancel`));
}

export function retryTask(task) {
  return act(`retry #${task.id}`, () => post(`/tasks/${task.id}/retry`));
}

export async function destroySession(session) {
  const values = await ask(`Destroy ${session.issueRef}?`, {
    detail: `Removes the worktree, the branch ${session.branch} and the session's record.`,
    fields: [
      {
        name: 'force',
        label: 'Force: stop a running agent and drop uncommitted work',
        type: 'checkbox',
        value: false,
      },
    ],
    confirm: 'Destroy',
    danger: true,
  });
  if (values === null) return;
  await act(
    `destroy ${session.issueRef}`,
    () => post('/sessions/destroy', { ref: session.issueRef, force: values.force }),
    (r) => `destroyed ${r.destroyed}`,
  );
}

export async function mergeSession(session) {
  const pr = session.pullRequest;
  const ok = await confirmAction(`Merge pull request #${pr.number}?`, pr.url, 'Merge', true);
  if (ok === null) return;
  await act(
    `merge ${session.issueRef}`,
    () => post('/sessions/merge', { ref: session.issueRef }),
    (r) =>
      r.already
        ? `pull request #${r.pullRequest.number} was already merged`
        : `pull request #${r.pullRequest.number}: ${r.pullRequest.state}`,
  );
}

/** A dry run first: the confirmation names what would go, and what is kept says why. */
export async function pruneSessions() {
  const options = await ask('Prune idle sessions', {
    detail: 'Sessions whose work is safe elsewhere are removed; you see which before anything is.',
    fields: [
      {
        name: 'force',
        label: 'Force: also those with uncommitted work or an open pull request',
        type: 'checkbox',
        value: false,
      },
    ],
    confirm: 'Show what would go',
  });
  if (options === null) return;
  const force = options.force;
  const plan = await act(
    'prune (dry run)',
    () => post('/sessions/prune', { force, dryRun: true }),
    (r) => `would prune ${r.pruned.length}, keep ${r.kept.length}`,
  );
  if (plan === null || plan.pruned.length === 0) return;
  const ok = await confirmAction(
    `Prune ${plan.pruned.length} session(s)?`,
    plan.pruned.join(', '),
    'Prune',
    true,
  );
  if (ok === null) return;
  await act(
    'prune',
    () => post('/sessions/prune', { force }),
    (r) => `pruned ${r.pruned.length}, kept ${r.kept.length}`,
  );
}

export async function clearQueue() {
  const values = await ask('Clear finished tasks?', {
    fields: [{ name: 'all', label: 'Also cancel pending tasks', type: 'checkbox', value: false }],
    confirm: 'Clear',
    danger: true,
  });
  if (values === null) return;
  await act(
    'queue clear',
    () => post('/queue/clear', { all: values.all }),
    (r) => `removed ${r.removed}, cancelled ${r.cancelled}`,
  );
}
