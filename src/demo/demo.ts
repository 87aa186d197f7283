/**
 * `kugetsu demo`: the whole lifecycle in under a minute, offline, in a throwaway home. A local
 * repository, a cap of 2, several tasks delegated to the scripted agent; queue, start,
 * parallel runs, completion and notifications as they happen — and the phone: the daemon's bot
 * talks to a local Bot API, and the chat is printed as the phone shows it, from the first
 * /delegate through an approval tapped and a reply that continues the session.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseConfig } from '../../core/config.js';
import { ensureDaemon, stopDaemon } from '../../core/daemon/daemon-control.js';
import { openHome } from '../../core/home-context.js';
import { addServer } from '../../core/operations/servers.js';
import { initHome } from '../../core/operations/setup.js';
import { delegate } from '../../core/operations/tasks.js';
import { daemonLauncher } from '../cli/home.js';
import type { Io } from '../cli/io.js';
import { DemoPhone, phoneView, type PhoneMessage } from './demo-phone.js';

const PHONE_USER = { id: 4242, first_name: 'you' };
const FOLLOW_UP = 'also add a farewell';
const FIRST_ISSUE = /local\/demo\/app#1(?![0-9])/;
/** The phone's first task asks before it publishes; the demo taps Allow once. */
const PHONE_TASK = 'add a greeting to the README and publish it';

const TASKS = [
  PHONE_TASK,
  'write a CONTRIBUTING guide',
  'document the build steps',
  'list the open questions',
  'sketch the release checklist',
  'note the coding style',
];

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  });
}

function makeRepo(root: string): void {
  mkdirSync(root, { recursive: true });
  git(root, ['init', '--quiet', '--initial-branch=main']);
  git(root, ['config', 'user.name', 'kugetsu demo']);
  git(root, ['config', 'user.email', 'demo@localhost']);
  writeFileSync(join(root, 'README.md'), '# app\n\nA small app for the kugetsu demo.\n');
  git(root, ['add', '.']);
  git(root, ['commit', '--quiet', '-m', 'initial commit']);
}

export async function runDemo(io: Io, options: { tasks: number; keep: boolean }): Promise<number> {
  const started = Date.now();
  const dir = mkdtempSync(join(parseConfig(process.env).tempDir ?? tmpdir(), 'kugetsu-demo-'));
  const gitRoot = join(dir, 'git');
  makeRepo(join(gitRoot, 'demo', 'app'));
  const agent = fileURLToPath(new URL('./scripted-agent.js', import.meta.url));
  const phone = await DemoPhone.start(PHONE_USER);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUGETSU_HOME: join(dir, 'home'),
    MAX_CONCURRENT_AGENTS: '2',
    KUGETSU_AGENT: 'command',
    KUGETSU_PM_AGENT: 'command',
    // The agent path is ours, not user input; quoted for paths with spaces.
    KUGETSU_AGENT_COMMAND: `'${process.execPath}' '${agent}'`,
    KUGETSU_DEFAULT_REPO: 'local/demo/app',
    KUGETSU_RETRY_BASE_SECONDS: '1',
    TELEGRAM_BOT_TOKEN: phone.token,
    TELEGRAM_API_ROOT: phone.apiRoot,
    TELEGRAM_ALLOWED_USERS: String(PHONE_USER.id),
    TELEGRAM_NOTIFY_CHATS: String(PHONE_USER.id),
    TELEGRAM_WEBHOOK_URL: '',
  };
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  io.out(
    `kugetsu demo in ${dir}\n  a local repository demo/app, MAX_CONCURRENT_AGENTS=2, a scripted agent (no API key),\n  and a phone: the bot on a local Bot API (📱 lines are the chat as the phone shows it)\n`,
  );
  await initHome(env);
  const ctx = await openHome(env);
  const chat = new PhoneChat(phone, (line) => io.out(`${elapsed()}  📱 ${line}`));
  try {
    await addServer(ctx, { name: 'local', url: pathToFileURL(gitRoot).href, kind: 'git' });
    const daemon = await ensureDaemon(ctx, daemonLauncher());
    io.out(`${elapsed()}  daemon started (pid ${daemon.pid}), its bot polling the phone`);
    chat.say(`/delegate #1 ${PHONE_TASK}`);
    const first = await until(() => ctx.store.tasks.get(1));
    const ids: number[] = [first.id];
    for (let n = 2; n <= options.tasks; n += 1) {
      const text = `#${n} ${TASKS[(n - 1) % TASKS.length] ?? 'tidy up'}`;
      const { task } = await delegate(ctx, text);
      ids.push(task.id);
      io.out(`${elapsed()}  delegate "${text}" → task #${task.id}`);
    }
    // Agents alive, as the events tell it: up on start, down when an attempt ends.
    let running = 0;
    let peak = 0;
    let cursor = 0;
    const ENDS = new Set(['task_completed', 'task_error', 'task_retrying', 'task_cancelled']);
    const SHOWN = new Set(['task_started', ...ENDS]);
    for (;;) {
      for (const event of await ctx.store.events.list({ unreadOnly: false, afterId: cursor })) {
        cursor = event.id;
        if (!SHOWN.has(event.type)) continue;
        if (event.type === 'task_started') running += 1;
        if (ENDS.has(event.type)) running -= 1;
        peak = Math.max(peak, running);
        io.out(`${elapsed()}  ${event.type.padEnd(14)} ${event.message}   [agents: ${running}/2]`);
      }
      // The follow-up the phone's reply queued belongs to the demo too.
      const followUp = (await ctx.store.tasks.list({ issueRef: first.issueRef ?? '' })).find(
        (t) => t.mode === 'continue',
      );
      if (followUp !== undefined && !ids.includes(followUp.id)) ids.push(followUp.id);
      const states = await Promise.all(
        ids.map(async (id) => (await ctx.store.tasks.get(id))?.state),
      );
      const open = states.filter((state) => state === 'pending' || state === 'running');
      if (open.length === 0 && chat.done) break;
      await delay(100);
    }
    // The last pushes reach the phone before the daemon (and its bot) stops.
    await until(
      async () =>
        (await ctx.store.events.cursor('telegram')) === (await ctx.store.events.latestId()) || null,
    );
    await stopDaemon(ctx);
    const branches = git(join(gitRoot, 'demo', 'app'), [
      'branch',
      '--list',
      '--format=  %(refname:short)',
      'kugetsu/*',
    ]);
    const finals = await Promise.all(ids.map(async (id) => (await ctx.store.tasks.get(id))?.state));
    const done = finals.filter((state) => state === 'completed').length;
    io.out(
      `\n${elapsed()}  ${done}/${ids.length} tasks completed (one a follow-up from the phone); at most ${peak} agents ran at once (cap 2).`,
    );
    io.out(`branches pushed to demo/app:\n${branches.trimEnd()}`);
    io.out(
      `events recorded: ${(await ctx.store.events.list({ unreadOnly: true })).length} (\`kugetsu notify\` lists them)`,
    );
    io.out(`\nTry it on your own repository: see README.md, "Point it at a real repo".`);
    return done === ids.length ? 0 : 1;
  } finally {
    ctx.close();
    await phone.close();
    if (options.keep) io.out(`kept ${dir} (KUGETSU_HOME=${join(dir, 'home')})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the user does on the phone, and what it shows: every bot message as it arrives, an
 * approval's buttons tapped, a reply to the first completion.
 */
class PhoneChat {
  done = false;
  private replied = false;

  constructor(
    private readonly phone: DemoPhone,
    private readonly print: (line: string) => void,
  ) {
    phone.onMessage((message, change) => this.shown(message, change));
  }

  say(text: string, replyTo?: PhoneMessage): void {
    this.print(`you      ${replyTo === undefined ? '' : '(replying) '}${text}`);
    this.phone.send(text, replyTo?.id);
  }

  private shown(message: PhoneMessage, change: 'new' | 'edit'): void {
    // Progress edits keep their buttons; an edit that takes them away is an answer shown.
    if (change === 'edit' && message.buttons.length > 0) return;
    const lines = phoneView(message)
      .split('\n')
      .filter((line) => line.trim() !== '');
    const [head = ''] = lines;
    // What the phone shows: silent pushes as their first line, an answered request as its outcome.
    const body = change === 'edit' ? lines.slice(-1) : message.silent ? [] : lines.slice(1);
    const indent = `\n${' '.repeat(18)}`;
    this.print(
      `kugetsu  ${change === 'edit' ? '(edited) ' : ''}${message.silent ? '🔕 ' : ''}${head}${body.map((l) => `${indent}${l}`).join('')}`,
    );
    if (change !== 'new') return;
    const allow = message.buttons.flat().find((b) => b.callback_data?.startsWith('approval:once:'));
    if (allow?.callback_data !== undefined) {
      const data = allow.callback_data;
      setTimeout(() => {
        this.print(`you      taps [${allow.text}]`);
        this.phone.tap(message.id, data);
      }, 800);
    }
    if (!message.text.includes('completed') || !FIRST_ISSUE.test(message.text)) return;
    if (this.replied) {
      this.done = true;
      return;
    }
    this.replied = true;
    setTimeout(() => this.say(FOLLOW_UP, message), 500);
  }
}

async function until<T>(
  check: () => Promise<T | null | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const due = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > due) throw new Error('the demo waited too long for its phone');
    await delay(50);
  }
}
