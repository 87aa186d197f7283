// Usage: tokens and cost per day as stacked bars, one colour per agent, and as a table.
import { get } from './api.js';
import { h, section, table } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const child of children) el.append(child);
  return el;
}

const total = (u) => u.inputTokens + u.outputTokens;

const DAYS = 30;
const DAY_MS = 86_400_000;

/** The UTC days the API counts in, oldest first: a day without usage keeps its empty slot. */
function lastDays(now = Date.now()) {
  return Array.from({ length: DAYS }, (_, i) =>
    new Date(now - (DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10),
  );
}

/** Stacked bars of `value(row)` per day; `label` names the measure for the bars' tooltips. */
function chart(rows, agents, value, label) {
  const days = lastDays();
  const perDay = days.map((day) => rows.filter((r) => r.day === day));
  const max = Math.max(1e-9, ...perDay.map((rs) => rs.reduce((n, r) => n + value(r), 0)));
  const width = 24;
  const height = 120;
  const bars = perDay.flatMap((rs, i) => {
    let y = height;
    return rs.map((r) => {
      const bar = (value(r) / max) * height;
      y -= bar;
      const colour = COLOURS[agents.indexOf(r.agent) % COLOURS.length];
      return svg(
        'rect',
        { x: i * width + 2, y, width: width - 4, height: bar, fill: colour },
        svg('title', {}, `${r.day} ${r.agent}: ${label(value(r))}`),
      );
    });
  });
  return svg(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${days.length * width} ${height}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': `${label(max)} at most per day`,
    },
    ...bars,
  );
}

function legend(agents) {
  return h(
    'p',
    { class: 'legend' },
    agents.map((agent, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = COLOURS[i % COLOURS.length];
      return h('span', {}, swatch, agent, ' ');
    }),
  );
}

const cost = (u) => (u.costUsd === null ? '—' : `$${u.costUsd.toFixed(2)}`);

export async function usageView() {
  const [usage, recent] = await Promise.all([get(`/usage?days=${DAYS}`), get('/runs?limit=20')]);
  const agents = [...new Set(usage.days.map((r) => r.agent))];
  return h(
    'div',
    {},
    section(
      `Usage, last ${DAYS} days`,
      h('p', {}, `${total(usage.total).toLocaleString()} tokens · ${cost(usage.total)}`),
      usage.days.length === 0
        ? h('p', { class: 'muted' }, 'no usage yet')
        : [
            h('h3', {}, 'Tokens per day'),
            chart(
              usage.days,
              agents,
              (r) => total(r.usage),
              (n) => `${n.toLocaleString()} tokens`,
            ),
            h('h3', {}, 'Cost per day'),
            chart(
              usage.days,
              agents,
              (r) => r.usage.costUsd ?? 0,
              (n) => `$${n.toFixed(2)}`,
            ),
            legend(agents),
          ],
      table(
        ['day', 'agent', 'runs', 'tokens', 'cost'],
        usage.days.map((r) => [
          r.day,
          r.agent,
          String(r.runs),
          total(r.usage).toLocaleString(),
          cost(r.usage),
        ]),
      ),
    ),
    section(
      'Latest attempts',
      table(
        ['task', 'issue', 'attempt', 'outcome', 'tokens'],
        recent.runs.map((r) => [
          h('a', { href: `#/task/${r.taskId}` }, `#${r.taskId}`),
          r.issueRef ?? 'PM',
          String(r.attempt),
          r.outcome ?? 'running',
          r.usage === null ? '—' : total(r.usage).toLocaleString(),
        ]),
      ),
    ),
  );
}
