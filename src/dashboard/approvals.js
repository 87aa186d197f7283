// Approvals: what an agent waits for (a permission, a question, more time), answered here.
import { get, post } from './api.js';
import { h, section, table, when } from './dom.js';
import { act, ask, button, confirmAction } from './ui.js';

async function allow(a, scope) {
  const ok = await confirmAction(
    `Allow approval #${a.id}${scope === 'task' ? ' for the rest of the task' : ''}?`,
    a.subject,
    'Allow',
  );
  if (ok !== null) await act(`allow #${a.id}`, () => post(`/approvals/${a.id}/approve`, { scope }));
}

async function answer(a) {
  const values = await ask(`Answer approval #${a.id}`, {
    detail: a.subject,
    fields: [{ name: 'answer', label: 'Answer', type: 'textarea', required: true }],
    confirm: 'Answer',
  });
  if (values !== null)
    await act(`answer #${a.id}`, () =>
      post(`/approvals/${a.id}/approve`, { answer: values.answer }),
    );
}

async function deny(a) {
  const values = await ask(`Deny approval #${a.id}?`, {
    detail: a.subject,
    fields: [{ name: 'message', label: 'Why (told to the agent)', type: 'text' }],
    confirm: 'Deny',
    danger: true,
  });
  if (values !== null)
    await act(`deny #${a.id}`, () =>
      post(`/approvals/${a.id}/deny`, values.message === '' ? {} : { message: values.message }),
    );
}

function approvalCard(a) {
  const buttons =
    a.kind === 'question'
      ? [button('Answer…', () => answer(a), 'primary')]
      : a.kind === 'stall'
        ? [button('Give time', () => allow(a, 'once'), 'primary')]
        : [
            button('Allow once', () => allow(a, 'once'), 'primary'),
            button('Allow for the task', () => allow(a, 'task')),
          ];
  buttons.push(button(a.kind === 'stall' ? 'Stop it…' : 'Deny…', () => deny(a), 'danger'));
  return h(
    'li',
    { class: 'card', 'data-approval': a.id },
    h(
      'div',
      { class: 'row' },
      h('a', { href: `#/task/${a.taskId}`, class: 'title' }, `#${a.id} ${a.issueRef ?? 'PM'}`),
      h('span', { class: 'badge' }, `${a.kind} · ${a.agent}`),
    ),
    h('pre', { class: 'subject' }, a.subject),
    h('p', { class: 'muted' }, `expires ${when(a.expiresAt)}`),
    h('div', { class: 'buttons' }, buttons),
  );
}

export async function approvalsView() {
  const { approvals } = await get('/approvals?all=true');
  const open = approvals.filter((a) => a.state === 'open');
  const answered = approvals.filter((a) => a.state !== 'open').reverse();
  return h(
    'div',
    {},
    section(
      `Open approvals (${open.length})`,
      h(
        'ul',
        { class: 'cards' },
        open.length === 0 ? h('li', { class: 'muted' }, 'none') : open.map(approvalCard),
      ),
    ),
    section(
      'Answered',
      table(
        ['#', 'task', 'kind', 'state', 'subject', 'resolved'],
        answered.map((a) => [
          String(a.id),
          `#${a.taskId}`,
          a.kind,
          a.state,
          a.subject,
          when(a.resolvedAt),
        ]),
      ),
    ),
  );
}
