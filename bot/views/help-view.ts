/** The bot's command menu and help. Pure. */
import { escapeHtml } from './format.js';

export const COMMANDS = [
  {
    command: 'delegate',
    description: 'Queue work: /delegate [--agent NAME] [--model M] fix the login bug in me/app#14',
  },
  { command: 'queue', description: 'Pending and running tasks' },
  { command: 'list', description: 'Sessions in use or interrupted (/list all for every one)' },
  { command: 'status', description: 'kugetsu and daemon status' },
  { command: 'notify', description: 'Unread notifications' },
  { command: 'continue', description: 'Follow up: /continue REF what to do next' },
  { command: 'stop', description: 'Stop a running agent: /stop REF' },
  { command: 'logs', description: 'Last transcript lines: /logs REF|TASK [full]' },
  { command: 'destroy', description: 'Remove a session and its worktree: /destroy REF' },
  { command: 'prune', description: 'Remove sessions whose work is safe' },
  { command: 'pending', description: 'Requests waiting for your answer' },
  { command: 'help', description: 'What this bot can do' },
] as const;

export function helpHtml(): string {
  return [
    '<b>kugetsu</b> runs coding agents on your issues.',
    '',
    ...COMMANDS.map((c) => `/${c.command} — ${escapeHtml(c.description)}`),
    '',
    'Reply to a notification to continue its task. Plain text is a request; photos, documents and voice notes work too.',
  ].join('\n');
}

/** What a message no feature took is answered with. */
export const HINT =
  'Send /delegate with what to do, or reply to a notification. /help lists the commands.';

export const REFUSAL = 'This is a private kugetsu bot.';

/** A stranger's answer: with a pairing code for their /start, or the refusal alone. */
export function refusalHtml(code: string | null): string {
  return code === null
    ? REFUSAL
    : `${REFUSAL} If you own it, approve this chat on the server with:\n<code>kugetsu bot allow ${code}</code>\n(valid for an hour)`;
}
