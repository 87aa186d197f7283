// The home at large: status, doctor, forge servers (read-only), notifications and intake.
import { get, post } from './api.js';
import { h, section, table, when } from './dom.js';
import { act, ask, button, confirmAction } from './ui.js';

async function addIntake() {
  const values = await ask('Watch a repository', {
    fields: [
      { name: 'repo', label: 'Repository (owner/repo or host/owner/repo)', required: true },
      { name: 'label', label: 'Label', value: 'kugetsu' },
      { name: 'mention', label: 'Mention', value: '@kugetsu' },
    ],
    confirm: 'Watch',
  });
  if (values !== null)
    await act(
      'intake add',
      () => post('/intake/add', values),
      (r) => `watching ${r.repo.repoPath}`,
    );
}

/** How a repository is named in a ref: by its server's host (`server.host ?? server.name`). */
async function removeIntake(repo, servers) {
  const server = servers.find((s) => s.name === repo.serverName);
  const name = `${server?.host ?? repo.serverName}/${repo.repoPath}`;
  const ok = await confirmAction(`Stop watching ${name}?`, null, 'Stop watching', true);
  if (ok !== null) await act('intake remove', () => post('/intake/remove', { repo: name }));
}

function pollIntake() {
  return act(
    'intake poll',
    () => post('/intake/poll'),
    (r) =>
      r.polls.length === 0
        ? 'no watched repositories'
        : r.polls.map((p) => `${p.repo}: ${p.error ?? `${p.queued.length} queued`}`).join('; '),
  );
}

/** The last doctor's answer outlives the page's redraws: they come with every event. */
let doctorReport = null;

function doctorReportNode() {
  if (doctorReport === null)
    return h('p', { class: 'muted' }, 'Checks of the set-up; nothing is changed.');
  if (doctorReport instanceof Error) return h('p', { class: 'error' }, doctorReport.message);
  const { ok, checks } = doctorReport;
  return h(
    'div',
    {},
    h('p', {}, ok ? 'all checks pass' : 'a check failed'),
    table(
      ['check', 'status', 'detail'],
      checks.map((c) => [c.name, c.status, c.detail]),
    ),
  );
}

function doctorSection() {
  const out = h('div', {}, doctorReportNode());
  const run = async () => {
    out.replaceChildren(h('p', { class: 'muted' }, 'checking…'));
    doctorReport = await get('/doctor').catch((err) => err);
    for (const node of document.querySelectorAll('[data-doctor]'))
      node.replaceChildren(doctorReportNode());
  };
  out.dataset.doctor = '';
  return section(
    'Doctor',
    h('div', { class: 'buttons' }, button('Run doctor', run, '', { reads: true })),
    out,
  );
}

export async function homeView() {
  const [status, servers, events, intake] = await Promise.all([
    get('/status'),
    get('/servers'),
    get('/events'),
    get('/intake'),
  ]);
  return h(
    'div',
    {},
    section(
      'Status',
      h('p', { 'data-status': status.status }, status.status),
      status.telegram === undefined ? null : h('p', {}, `Telegram: ${status.telegram.health}`),
    ),
    section(
      `Notifications (${events.events.length} unread)`,
      h(
        'div',
        { class: 'buttons' },
        button('Mark all read', () =>
          act(
            'mark read',
            () => post('/events/read'),
            (r) => `${r.cleared} marked read`,
          ),
        ),
      ),
      table(
        ['when', 'event', 'task', 'message'],
        events.events
          .slice(-50)
          .reverse()
          .map((e) => [
            when(e.createdAt),
            e.type,
            h('a', { href: `#/task/${e.taskId}` }, `#${e.taskId}`),
            e.message,
          ]),
      ),
    ),
    section(
      'Servers',
      h('p', { class: 'muted' }, 'Added and removed with `kugetsu server`.'),
      table(
        ['name', 'kind', 'url', 'default'],
        servers.servers.map((s) => [s.name, s.kind, s.url, s.isDefault ? 'yes' : '']),
      ),
    ),
    section(
      'Intake',
      h(
        'div',
        { class: 'buttons' },
        button('Watch a repository…', addIntake),
        button('Poll now', pollIntake),
      ),
      table(
        ['server', 'repository', 'label', 'mention', ''],
        intake.repos.map((r) => [
          r.serverName,
          r.repoPath,
          r.label,
          r.mention,
          button('Remove…', () => removeIntake(r, servers.servers), 'danger'),
        ]),
      ),
    ),
    doctorSection(),
  );
}
