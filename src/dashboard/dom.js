// Building the page: every string from the API or an agent goes in as text, never as HTML.

/** `h('p', { class: 'x', onclick }, 'text', child)`: attributes, listeners and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A link only to a web page: a forge's URL is data, and `javascript:` must not run. */
export function webLink(url, text) {
  return /^https?:\/\//i.test(url ?? '')
    ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text)
    : h('span', {}, text);
}

export function section(title, ...children) {
  return h('section', {}, h('h2', {}, title), ...children);
}

export function elapsed(since, now = Date.now()) {
  const s = Math.max(0, Math.floor((now - since) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** A live clock: main.js updates every `[data-since]` once a second. */
export function clock(since) {
  return h('span', { class: 'clock', 'data-since': since }, elapsed(since));
}

export function when(ms) {
  return ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString();
}

export function tokens(usage) {
  if (usage === null || usage === undefined) return '—';
  const total = usage.inputTokens + usage.outputTokens;
  const cost = usage.costUsd === null ? '' : ` · $${usage.costUsd.toFixed(2)}`;
  return `${total.toLocaleString()} tokens${cost}`;
}

export function table(head, rows) {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((cell) => h('th', {}, cell)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            {},
            row.map((cell) => h('td', {}, cell)),
          ),
        ),
      ),
    ),
  );
}
