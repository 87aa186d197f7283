/**
 * What the settings table is written out as: config.env (`kugetsu init`; .env.example is the same
 * text) and the table of docs/configuration.md. Pure: `npm run docs:config`
 * (scripts/docs-config.mjs) rewrites both files, and test/config-settings.test.ts fails when
 * either is out of date.
 */
import { SETTINGS } from './settings.js';

/** Every setting, in config.env order: its key, default as written ('' when none), one-line doc. */
export const CONFIG_KEYS: ReadonlyArray<{ key: string; default: string; help: string }> =
  SETTINGS.map((s) => ({ key: s.key, default: 'default' in s ? s.default : '', help: s.doc }));

/** The text of a fresh config.env (and .env.example): every key commented out, with its doc. */
export function renderConfigEnv(): string {
  const lines = [
    '# kugetsu settings.',
    '# Precedence, highest first: the process environment, this file, the built-in defaults.',
    '# Every key below shows its default; uncomment a line to change it. An empty value means unset.',
    '# Secrets for agents (API keys, forge tokens) belong in env/*.env: see `kugetsu env set`.',
    '',
  ];
  for (const { key, default: fallback, help } of CONFIG_KEYS) {
    lines.push(`# ${help}`, `# ${key}=${fallback}`, '');
  }
  return lines.join('\n');
}

export const SETTINGS_TABLE_BEGIN =
  '<!-- settings: generated from core/config/settings.ts by `npm run docs:config`; edit there -->';
export const SETTINGS_TABLE_END = '<!-- end of settings -->';

/** A code span; `|` escaped, as GFM tables need even inside code. */
function code(value: string): string {
  const fence = value.includes('`') ? '``' : '`';
  return `${fence}${value.replace(/\|/g, '\\|')}${fence}`;
}

// In doc text outside code spans: links to other docs, setting names (KEY or KEY=value) as code,
// and the characters markdown or a table cell would read as syntax, escaped (`_` only where it
// could start or end emphasis: sandbox_mode is plain text).
const PROSE =
  /docs\/([\w-]+\.md)(#[\w-]+)?|\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:=[\w-]+)?)\b|([\\*<>[\]|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))/g;

/** A one-line doc as markdown: `code` kept (its `|` escaped), the rest as PROSE says. */
function markdown(doc: string): string {
  return doc
    .split(/(`[^`]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part.replace(/\|/g, '\\|')
        : part.replace(
            PROSE,
            (_m, page?: string, anchor?: string, name?: string, char?: string) => {
              if (page !== undefined) return `[docs/${page}](${page}${anchor ?? ''})`;
              if (name !== undefined) return code(name);
              return `\\${char ?? ''}`;
            },
          ),
    )
    .join('');
}

/** The settings table of docs/configuration.md (unaligned: the formatter aligns it). */
export function renderSettingsTable(): string {
  const rows = CONFIG_KEYS.map(
    ({ key, default: fallback, help }) =>
      `| ${code(key)} | ${fallback === '' ? '—' : code(fallback)} | ${markdown(help)} |`,
  );
  return ['| key | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** `doc` with the generated table between its markers replaced by the table as it is now. */
export function spliceSettingsTable(doc: string, table: string = renderSettingsTable()): string {
  const begin = doc.indexOf(SETTINGS_TABLE_BEGIN);
  const end = begin === -1 ? -1 : doc.indexOf(SETTINGS_TABLE_END, begin);
  if (end === -1) {
    throw new Error(`no "${SETTINGS_TABLE_BEGIN}" … "${SETTINGS_TABLE_END}" block to fill`);
  }
  const head = doc.slice(0, begin + SETTINGS_TABLE_BEGIN.length);
  return `${head}\n\n${table}\n\n${doc.slice(end)}`;
}
