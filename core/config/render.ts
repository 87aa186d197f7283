/** What the settings table is written out as: config.env (`kugetsu init`, and .env.example). Pure. */
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
