/**
 * "A chat that scales past one task", end to end: the real daemon runs the real grammY bot
 * against the fake Bot API (TELEGRAM_API_ROOT), with real forges faked over HTTP, real git and
 * real SQLite. Merge, plain-text requests, files, voice notes, forum topics and batching.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FILE_MESSAGE, FILES_HINT } from '../bot/features/attachments.js';
import { topicName } from '../bot/topic-router.js';
import { VOICE_NOT_CONFIGURED } from '../bot/features/voice.js';
import type { Session } from '../core/domain.js';
import { FakeForge, type FakeForgeKind } from './helpers/fake-forge.js';
import { FakeTelegram, type ChatMessage } from './helpers/fake-telegram.js';
import { FakeTranscriber } from './helpers/fake-transcriber.js';
import { Sandbox, fixture, git } from './helpers/sandbox.js';

const OWNER = { id: 111, first_name: 'Owner' };
const FORGE_TOKEN = 'forge-secret-token-77aa01';

/** What the user sees: the HTML rendered to text. */
function rendered(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function buttonsOf(message: ChatMessage | undefined): { text: string; data: string }[][] {
  return (message?.reply_markup?.inline_keyboard ?? []).map((row) =>
    row.map((b) => ({ text: b.text, data: b.callback_data ?? b.url ?? '' })),
  );
}

interface ForgeWorld {
  tg: FakeTelegram;
  forge: FakeForge;
  sb: Sandbox;
  host: string;
}

async function forgeWorld(kind: FakeForgeKind): Promise<ForgeWorld> {
  const tg = await FakeTelegram.start();
  const forge = await FakeForge.start({ kind, token: FORGE_TOKEN });
  await forge.addRepo('me', 'app', { files: { 'README.md': '# app\n' } });
  const sb = new Sandbox({
    KUGETSU_AGENT_COMMAND: fixture('forge-agent.sh'),
    FORGE_TOKEN,
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ALLOWED_USERS: String(OWNER.id),
    TELEGRAM_NOTIFY_CHATS: String(OWNER.id),
  });
  const prompts = join(sb.dir, 'prompts');
  mkdirSync(prompts);
  sb.env['FORGE_AGENT_DIR'] = prompts;
  await sb.ok(['init']);
  await sb.ok(['server', 'add', 'forge', forge.url, '--kind', kind, '--token-env', 'FORGE_TOKEN']);
  await sb.ok(['daemon', 'start']);
  await tg.waitFor(() => tg.calls('getUpdates').length > 0);
  return { tg, forge, sb, host: new URL(forge.url).host };
}

async function closeWorld(w: ForgeWorld | undefined): Promise<void> {
  await w?.sb.cleanup();
  await w?.tg.close();
  await w?.forge.close();
}

/** Waits for the first bot message whose rendered text satisfies `match`. */
function messageWhere(
  tg: FakeTelegram,
  match: (text: string) => boolean,
  timeoutMs = 30_000,
): Promise<ChatMessage> {
  return tg.waitFor(
    () => tg.messagesIn(OWNER.id).find((m) => match(rendered(m.text ?? m.caption ?? ''))),
    timeoutMs,
  );
}

const REFUSED_UNMERGEABLE: Record<FakeForgeKind, string> = {
  gitea: '405 Please try again later',
  github: '405 Pull Request is not mergeable',
  gitlab: '405 405 Method Not Allowed',
};
const REFUSED_CONFLICT: Record<FakeForgeKind, string> = {
  gitea: '409 Conflict',
  github: '405 Pull Request is not mergeable',
  gitlab: '406 Branch cannot be merged',
};

describe.each<FakeForgeKind>(['gitea', 'github', 'gitlab'])('merge on %s', (kind) => {
  let w: ForgeWorld;

  beforeAll(async () => {
    w = await forgeWorld(kind);
  });
  afterAll(() => closeWorld(w));

  const sessionOf = async (ref: string): Promise<Session | undefined> =>
    (await w.sb.json<{ sessions: Session[] }>(['list', '--all'])).sessions.find(
      (s) => s.issueRef === ref,
    );

  it('a completion with an open PR offers Merge; Yes, merge merges it on the forge', async () => {
    const { tg, forge, host } = w;
    const issue = forge.addIssue('me', 'app', { title: 'Add a greeting', body: 'Say hello.' });
    const ref = `${host}/me/app#${issue}`;
    tg.userSends(OWNER, `/delegate ${ref} add the greeting`);
    const done = await messageWhere(tg, (t) => t.startsWith('✅ completed') && t.includes(ref));
    const taskId = Number(/#(\d+) completed/.exec(rendered(done.text ?? ''))?.[1]);
    const pr = forge.pullRequests('me', 'app')[0];
    expect(pr?.state).toBe('open');
    expect(buttonsOf(done).map((row) => row.map((b) => b.text))).toEqual([
      [`Pull request #${pr?.number}`],
      ['Continue', 'Merge', 'Logs'],
      ['Destroy', 'Prune'],
    ]);
    expect(buttonsOf(done)[1]?.[1]?.data).toBe(`merge:${taskId}`);

    // The tap asks first; nothing is merged until "Yes, merge".
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: done.message_id }, `merge:${taskId}`);
    const question = await messageWhere(tg, (t) => t.startsWith('Merge pull request'));
    expect(rendered(question.text ?? '')).toBe(`Merge pull request #${pr?.number} of ${ref}?`);
    expect(buttonsOf(question)).toEqual([
      [
        { text: 'Yes, merge', data: `merge!:${taskId}` },
        { text: 'Cancel', data: `cancel:${taskId}` },
      ],
    ]);
    expect(forge.pullRequests('me', 'app')[0]?.merged).toBe(false);

    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: question.message_id }, `merge!:${taskId}`);
    const merged = await messageWhere(tg, (t) => t.startsWith('🔀'));
    expect(rendered(merged.text ?? '')).toBe(`🔀 Merged pull request #${pr?.number} of ${ref}.`);
    expect(forge.pullRequests('me', 'app')[0]).toMatchObject({ state: 'closed', merged: true });
    // A real merge: the agent's change is on the default branch now.
    expect(await forge.fileAt('me', 'app', 'main', `change-${taskId}.txt`)).toBe(
      `change for task ${taskId}`,
    );
    expect((await sessionOf(ref))?.pullRequest?.state).toBe('merged');
    // The question's buttons are gone, so it cannot be answered twice.
    expect(
      tg.messagesIn(OWNER.id).find((m) => m.message_id === question.message_id)?.reply_markup,
    ).toBeUndefined();

    // Merge again on the completion: no question, just what the forge says.
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: done.message_id }, `merge:${taskId}`);
    await messageWhere(tg, (t) => t.endsWith('was already merged.'));
    // The CLI agrees with the phone.
    const again = await w.sb.json<{ already: boolean; pullRequest: { state: string } }>([
      'merge',
      ref,
      '-y',
    ]);
    expect(again).toMatchObject({ already: true, pullRequest: { state: 'merged' } });
    expect(tg.violations).toEqual([]);
  });

  it("refuses in one line with the forge's reason, and leaves the PR open", async () => {
    const { tg, forge, host, sb } = w;
    const issue = forge.addIssue('me', 'app', { title: 'Second change', body: '' });
    const ref = `${host}/me/app#${issue}`;
    tg.userSends(OWNER, `/delegate ${ref} another change`);
    const done = await messageWhere(tg, (t) => t.startsWith('✅ completed') && t.includes(ref));
    const taskId = Number(/#(\d+) completed/.exec(rendered(done.text ?? ''))?.[1]);
    const pr = forge.pullRequests('me', 'app').find((p) => p.state === 'open');
    if (pr === undefined) throw new Error('no open pull request');

    forge.setMergeable('me', 'app', pr.number, false);
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: done.message_id }, `merge:${taskId}`);
    const question = await tg.waitFor(() =>
      tg
        .messagesIn(OWNER.id)
        .filter((m) => m.text?.startsWith('Merge pull request') === true)
        .find((m) => m.message_id > done.message_id),
    );
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: question.message_id }, `merge!:${taskId}`);
    const refusal = await messageWhere(tg, (t) => t.includes('cannot be merged'));
    expect(rendered(refusal.text ?? '')).toBe(
      `⚠️ pull request #${pr.number} cannot be merged: ${REFUSED_UNMERGEABLE[kind]}`,
    );
    expect((await sessionOf(ref))?.pullRequest?.state).toBe('open');

    // A real conflict on the default branch: git finds it, the forge refuses in its words.
    forge.setMergeable('me', 'app', pr.number, true);
    await forge.commitTo('me', 'app', 'main', { [`change-${taskId}.txt`]: 'someone else\n' });
    const conflict = await sb.cli(['merge', ref, '-y']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toBe(
      `kugetsu: pull request #${pr.number} cannot be merged: ${REFUSED_CONFLICT[kind]}\n`,
    );
    expect(forge.pullRequests('me', 'app').find((p) => p.number === pr.number)?.merged).toBe(false);
    // Without -y and without a terminal to ask on, nothing happens.
    const unasked = await sb.cli(['merge', ref]);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain('add -y');
    for (const request of forge.requests)
      expect(JSON.stringify(request)).not.toContain(FORGE_TOKEN);
    expect(JSON.stringify(tg.requests)).not.toContain(FORGE_TOKEN);
  });
});

/** A sandbox on a local `file://` server whose daemon runs the bot against `tg`. */
async function localBot(tg: FakeTelegram, settings: Record<string, string> = {}): Promise<Sandbox> {
  const sb = new Sandbox({
    KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ALLOWED_USERS: String(OWNER.id),
    TELEGRAM_NOTIFY_CHATS: String(OWNER.id),
    ...settings,
  });
  await sb.setup();
  await sb.ok(['daemon', 'start']);
  await tg.waitFor(() => tg.calls('getUpdates').length > 0);
  return sb;
}

describe('plain text is a request', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;

  beforeAll(async () => {
    tg = await FakeTelegram.start();
    sb = await localBot(tg);
  });
  afterAll(async () => {
    await sb.cleanup();
    await tg.close();
  });

  it('queues text naming an issue at once', async () => {
    tg.userSends(OWNER, 'please fix the typo in local/me/app#3');
    const reply = await messageWhere(tg, (t) => t.includes('queued for local/me/app#3'));
    expect(rendered(reply.text ?? '')).toMatch(/^📥 Task #\d+ queued for local\/me\/app#3$/);
    const task = (await sb.tasks()).find((t) => t.issueRef === 'local/me/app#3');
    expect(task?.message).toBe('please fix the typo in local/me/app#3');
  });

  it('asks before the PM agent gets text; the answer survives a restart and counts once', async () => {
    const before = (await sb.tasks()).filter((t) => t.kind === 'pm').length;
    tg.userSends(OWNER, 'what is going on with the login work?');
    const question = await messageWhere(tg, (t) => t.startsWith('Send to the PM agent?'));
    expect(rendered(question.text ?? '')).toContain('what is going on with the login work?');
    const [yes, cancel] = buttonsOf(question)[0] ?? [];
    expect([yes?.text, cancel?.text]).toEqual(['Yes', 'Cancel']);
    expect((await sb.tasks()).filter((t) => t.kind === 'pm')).toHaveLength(before);

    // The pending text is durable: a restart between the question and the tap loses nothing.
    await sb.ok(['daemon', 'restart']);
    await tg.waitFor(() => tg.calls('getUpdates').length > 0);
    const where = { chatId: OWNER.id, messageId: question.message_id };
    tg.userPresses(OWNER, where, yes?.data ?? '');
    tg.userPresses(OWNER, where, yes?.data ?? '');
    await tg.waitFor(() =>
      rendered(
        tg.messagesIn(OWNER.id).find((m) => m.message_id === question.message_id)?.text ?? '',
      ).includes('queued for the PM agent'),
    );
    const answers = await tg.waitFor(() => {
      const all = tg.calls('answerCallbackQuery').map((c) => c.params['text']);
      return all.length >= 2 ? all : null;
    });
    expect(answers.slice(-2).sort()).toEqual(['Sent', 'This request was already handled.']);
    const pm = (await sb.tasks()).filter((t) => t.kind === 'pm');
    expect(pm).toHaveLength(before + 1);
    expect(pm.at(-1)?.message).toBe('what is going on with the login work?');
  });

  it('Cancel sends nothing', async () => {
    const before = (await sb.tasks()).length;
    tg.userSends(OWNER, 'never mind this one');
    const question = await tg.waitFor(() =>
      tg
        .messagesIn(OWNER.id)
        .find((m) => m.text?.startsWith('Send to the PM agent?') && m.text.includes('never mind')),
    );
    const cancel = buttonsOf(question)[0]?.[1];
    tg.userPresses(OWNER, { chatId: OWNER.id, messageId: question.message_id }, cancel?.data ?? '');
    await messageWhere(tg, (t) => t === 'Cancelled: nothing was sent.');
    expect(await sb.tasks()).toHaveLength(before);
  });

  it('answers a malformed request in one line and queues nothing', async () => {
    const before = (await sb.tasks()).length;
    tg.userSends(OWNER, 'work on nowhere.example/me/app#4');
    const reply = await messageWhere(tg, (t) => t.includes('no server for host'));
    expect(rendered(reply.text ?? '')).toBe(
      '⚠️ no server for host "nowhere.example": add one with `kugetsu server add NAME URL`',
    );
    expect(await sb.tasks()).toHaveLength(before);
  });
});

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('photos and documents', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;

  beforeAll(async () => {
    tg = await FakeTelegram.start();
    sb = await localBot(tg, {
      KUGETSU_AGENT_COMMAND: fixture('attachment-agent.sh'),
      KUGETSU_ATTACHMENT_MAX_MB: '1',
    });
  });
  afterAll(async () => {
    await sb.cleanup();
    await tg.close();
  });

  const staged = (): string[] => {
    const root = join(sb.home, 'attachments');
    return existsSync(root) ? readdirSync(root).flatMap((d) => readdirSync(join(root, d))) : [];
  };

  it('a photo with /delegate reaches the agent in its worktree, named in the prompt, never committed', async () => {
    const photo = randomBytes(40_000);
    tg.userSendsPhoto(OWNER, photo, { caption: '/delegate local/me/app#40 what is wrong here?' });
    const reply = await messageWhere(tg, (t) => t.includes('queued for local/me/app#40'));
    const taskId = Number(/Task #(\d+)/.exec(rendered(reply.text ?? ''))?.[1]);
    expect(rendered(reply.text ?? '')).toMatch(
      /^📥 Task #\d+ queued for local\/me\/app#40\n📎 photo-AQAD\d+\.jpg \(image\/jpeg, 39 KB\)$/,
    );
    const task = await sb.finished(taskId);
    expect(task.state).toBe('completed');
    const log = await sb.ok(['logs', String(taskId)]);
    const name = /placed: (photo-\S+\.jpg) ([0-9a-f]{64})/.exec(log);
    // The largest size, not the thumbnail Telegram sends with it.
    expect(name?.[2]).toBe(sha256(photo));
    const worktree = join(sb.home, 'worktrees', 'local-me-app-40');
    const placed = join(worktree, '.kugetsu', 'attachments', String(taskId), name?.[1] ?? '');
    expect(log).toContain(`- ${placed} (image/jpeg, 39 KB) — an image: look at it`);
    expect(log).toContain('what is wrong here?');
    // Kept out of git: invisible to status, absent from the pushed branch.
    expect(log).toContain('git-status: []');
    const pushed = git(join(sb.gitRoot, 'me', 'app'), [
      'ls-tree',
      '-r',
      '--name-only',
      'kugetsu/local-me-app-40',
    ]);
    expect(pushed.trim().split('\n').sort()).toEqual(['README.md', `work-${taskId}.txt`]);
    // The bot token is in the download URL: it is in no log, and not in what Telegram recorded.
    expect(tg.calls('downloadFile').map((c) => c.params['file_path'])).toEqual([
      expect.stringMatching(/^photos\/file_\d+\.jpg$/),
    ]);
    expect(await sb.ok(['daemon', 'logs'])).not.toContain(tg.token);
    expect(log).not.toContain(tg.token);
  });

  it('a document in reply to a notification continues the session, under a safe name', async () => {
    const done = await messageWhere(tg, (t) => t.startsWith('✅ completed') && t.includes('#40'));
    const content = Buffer.from('stack trace: boom\n');
    tg.userSendsDocument(OWNER, content, {
      fileName: '../../.ssh/\u202eauthorized_keys\u0007.txt',
      mimeType: 'text/plain',
      replyTo: done.message_id,
    });
    const reply = await messageWhere(tg, (t) => t.includes('saved under a safe name'));
    expect(rendered(reply.text ?? '')).toMatch(
      /^📥 Task #\d+ queued for local\/me\/app#40\n📎 authorized_keys\.txt \(text\/plain, 18 B\)\nsaved under a safe name; it came as /,
    );
    const taskId = Number(/Task #(\d+)/.exec(rendered(reply.text ?? ''))?.[1]);
    expect((await sb.finished(taskId)).state).toBe('completed');
    const log = await sb.ok(['logs', String(taskId)]);
    expect(log).toContain(`placed: authorized_keys.txt ${sha256(content)}`);
    expect(log).toContain(`prompt: ${DEFAULT_FILE_MESSAGE}`);
    expect(existsSync(join(sb.dir, '.ssh'))).toBe(false);
    expect(existsSync(join(sb.home, '.ssh'))).toBe(false);
  });

  it('refuses what it cannot take in one line, and leaves nothing behind', async () => {
    const before = (await sb.tasks()).length;
    const files = staged();
    const big = randomBytes(1_500_000);
    // Stated size over the limit: refused before anything is downloaded.
    tg.userSendsDocument(OWNER, big, {
      fileName: 'dump.bin',
      caption: '/delegate local/me/app#41 read the dump',
    });
    const refused = await messageWhere(tg, (t) => t.includes('over the 1.0 MB limit'));
    expect(rendered(refused.text ?? '')).toBe(
      '⚠️ the file is 1.4 MB, over the 1.0 MB limit (KUGETSU_ATTACHMENT_MAX_MB): nothing was queued',
    );
    expect(tg.calls('getFile')).toHaveLength(2);
    // No stated size: cut off while downloading, and the partial file removed.
    tg.userSendsDocument(OWNER, big, {
      fileName: 'dump.bin',
      caption: '/delegate local/me/app#41 read the dump',
      omitSize: true,
    });
    await messageWhere(
      tg,
      (t) =>
        t ===
        '⚠️ the file is over the 1.0 MB limit (KUGETSU_ATTACHMENT_MAX_MB): nothing was queued',
    );
    // No issue named; a malformed ref; a PM-bound reply; no caption at all.
    tg.userSendsPhoto(OWNER, randomBytes(100), { caption: '/delegate have a look' });
    await messageWhere(tg, (t) => t.startsWith('⚠️ files need an issue to go with'));
    tg.userSendsPhoto(OWNER, randomBytes(100), { caption: '/continue me/app#0 look' });
    await messageWhere(tg, (t) => t.startsWith('⚠️ invalid issue ref'));
    tg.userSendsPhoto(OWNER, randomBytes(100));
    await messageWhere(tg, (t) => t === FILES_HINT);
    expect(await sb.tasks()).toHaveLength(before);
    expect(staged()).toEqual(files);
    expect(tg.calls('getFile')).toHaveLength(3);
    expect(tg.violations).toEqual([]);
  });
});

describe('voice notes', () => {
  const KEY = 'sk-transcribe-c0ffee-4242';
  let tg: FakeTelegram;
  let sb: Sandbox;
  let whisper: FakeTranscriber;

  beforeAll(async () => {
    tg = await FakeTelegram.start();
    whisper = await FakeTranscriber.start(KEY);
    sb = await localBot(tg, {
      KUGETSU_TRANSCRIBE_URL: whisper.url,
      KUGETSU_TRANSCRIBE_MODEL: 'whisper-large-v3',
    });
    // The key lives in config.env: kugetsu's own secret, not an agent's.
    appendFileSync(join(sb.home, 'config.env'), `KUGETSU_TRANSCRIBE_API_KEY=${KEY}\n`);
    await sb.ok(['daemon', 'restart']);
  });
  afterAll(async () => {
    await sb.cleanup();
    await tg.close();
    await whisper.close();
  });

  it('echoes what it heard, then queues an issue’s request at once', async () => {
    const audio = Buffer.from(`OggS${randomBytes(3000).toString('hex')}`);
    whisper.script(audio, 'Fix the typo in local/me/app#50, please.');
    tg.userSendsVoice(OWNER, audio, { duration: 4 });
    const heard = await messageWhere(tg, (t) => t.startsWith('🎙'));
    expect(rendered(heard.text ?? '')).toBe('🎙 I heard: Fix the typo in local/me/app#50, please.');
    const queued = await messageWhere(tg, (t) => t.includes('queued for local/me/app#50'));
    expect(queued.message_id).toBeGreaterThan(heard.message_id);
    const [request] = whisper.requests;
    expect(request).toMatchObject({
      model: 'whisper-large-v3',
      fileName: 'voice.ogg',
      contentType: 'audio/ogg',
    });
    expect(request?.audio.equals(audio)).toBe(true);
    const task = (await sb.tasks()).find((t) => t.issueRef === 'local/me/app#50');
    expect(task?.message).toBe('Fix the typo in local/me/app#50, please.');
    // The audio is not kept.
    const root = join(sb.home, 'attachments');
    expect(existsSync(root) ? readdirSync(root) : []).toEqual([]);
  });

  it('a PM-bound transcript still asks first; a reply continues the replied session', async () => {
    const pmAudio = Buffer.from('OggS what is everyone working on');
    whisper.script(pmAudio, 'What is everyone working on?');
    tg.userSendsVoice(OWNER, pmAudio);
    const question = await messageWhere(
      tg,
      (t) => t.startsWith('Send to the PM agent?') && t.includes('What is everyone working on?'),
    );
    expect(buttonsOf(question)[0]?.map((b) => b.text)).toEqual(['Yes', 'Cancel']);

    const done = await messageWhere(tg, (t) => t.startsWith('✅ completed') && t.includes('#50'));
    const followUp = Buffer.from('OggS also the second typo');
    whisper.script(followUp, 'Also fix the second typo.');
    tg.userSendsVoice(OWNER, followUp, { replyTo: done.message_id });
    await messageWhere(tg, (t) => t === '🎙 I heard: Also fix the second typo.');
    await sb.until('the follow-up queued', async () =>
      (await sb.tasks()).find((t) => t.issueRef === 'local/me/app#50' && t.mode === 'continue'),
    );
    expect((await sb.tasks()).filter((t) => t.kind === 'pm')).toHaveLength(0);
  });

  it('a refused key is one line without the key; the key is in no log and no chat', async () => {
    await sb.ok(['daemon', 'restart'], {
      env: { KUGETSU_TRANSCRIBE_API_KEY: 'sk-wrong-key-00000000' },
    });
    tg.userSendsVoice(OWNER, Buffer.from('OggS anything'));
    const refused = await messageWhere(tg, (t) => t.startsWith('⚠️ transcription failed'));
    expect(rendered(refused.text ?? '')).toBe(
      '⚠️ transcription failed: 401 Incorrect API key provided.',
    );
    await sb.ok(['daemon', 'restart']);
    const log = await sb.ok(['logs', String((await sb.tasks())[0]?.id ?? 1)]);
    expect(log).not.toContain(KEY);
    expect(await sb.ok(['daemon', 'logs'])).not.toContain(KEY);
    expect(JSON.stringify(tg.requests)).not.toContain(KEY);
    expect(JSON.stringify(tg.requests)).not.toContain('sk-wrong-key-00000000');
  });
});

describe('voice notes without a transcription endpoint', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;
  beforeAll(async () => {
    tg = await FakeTelegram.start();
    sb = await localBot(tg);
  });
  afterAll(async () => {
    await sb.cleanup();
    await tg.close();
  });

  it('says how to turn them on, and downloads nothing', async () => {
    tg.userSendsVoice(OWNER, Buffer.from('OggS hello'));
    await messageWhere(tg, (t) => t === VOICE_NOT_CONFIGURED);
    expect(tg.calls('getFile')).toEqual([]);
    expect(await sb.tasks()).toEqual([]);
  });
});

describe('a topic per session in a forum group', () => {
  const FORUM = -1001987654321;
  let w: ForgeWorld;

  beforeAll(async () => {
    w = await forgeWorld('gitea');
    w.tg.makeForum(FORUM, { title: 'kugetsu' });
    await w.sb.ok(['daemon', 'restart'], {
      env: { TELEGRAM_NOTIFY_CHATS: `${OWNER.id},${FORUM}` },
    });
  });
  afterAll(() => closeWorld(w));

  const inForum = { chat: { id: FORUM, type: 'supergroup' as const } };

  it('makes one topic per session, named after the issue, and pushes into it', async () => {
    const { tg, forge, host } = w;
    const title = `Login fails on Safari ${'and on every other browser '.repeat(6)}`;
    const first = forge.addIssue('me', 'app', { title, body: '' });
    const second = forge.addIssue('me', 'app', { title: 'Dark mode', body: '' });
    const ref1 = `${host}/me/app#${first}`;
    const ref2 = `${host}/me/app#${second}`;
    tg.userSends(OWNER, `/delegate ${ref1} fix it`);
    await tg.waitFor(() => tg.topics(FORUM).length === 1);
    tg.userSends(OWNER, `/delegate ${ref2} add it`);
    const topics = await tg.waitFor(() => {
      const all = tg.topics(FORUM);
      return all.length === 2 ? all : null;
    });
    const [t1, t2] = topics;
    expect(t1?.name).toBe(topicName(ref1, title));
    expect([...(t1?.name ?? '')].length).toBeLessThanOrEqual(128);
    expect(t1?.name.startsWith(`${ref1} · Login fails on Safari`)).toBe(true);
    expect(t2?.name).toBe(`${ref2} · Dark mode`);
    const done = await tg.waitFor(() =>
      tg
        .messagesInTopic(FORUM, t1?.threadId ?? 0)
        .find((m) => rendered(m.text ?? '').startsWith('✅ completed')),
    );
    expect(rendered(done.text ?? '')).toContain(ref1);
    // Nothing about ref1 outside its topic; the private chat is as it always was.
    const stray = tg
      .messagesIn(FORUM)
      .filter((m) => m.message_thread_id !== t1?.threadId && rendered(m.text ?? '').includes(ref1));
    expect(stray).toEqual([]);
    expect(tg.messagesIn(OWNER.id).every((m) => m.message_thread_id === undefined)).toBe(true);
    expect(tg.messagesIn(OWNER.id).some((m) => rendered(m.text ?? '').includes(`completed`))).toBe(
      true,
    );
    expect(tg.calls('createForumTopic')).toHaveLength(2);
  });

  it('what is written in a topic continues its session, answered in the topic', async () => {
    const { tg, sb, host } = w;
    const [t1] = tg.topics(FORUM);
    const ref1 = `${host}/me/app#1`;
    tg.userSends(OWNER, 'also cover iOS', { ...inForum, thread: t1?.threadId });
    const queued = await tg.waitFor(() =>
      tg
        .messagesInTopic(FORUM, t1?.threadId ?? 0)
        .find((m) => rendered(m.text ?? '').startsWith('📥 Task #') && !m.disable_notification),
    );
    const taskId = Number(/Task #(\d+)/.exec(rendered(queued.text ?? ''))?.[1]);
    expect(rendered(queued.text ?? '')).toBe(`📥 Task #${taskId} queued for ${ref1}`);
    const task = await sb.finished(taskId);
    expect(task).toMatchObject({ issueRef: ref1, mode: 'continue', message: 'also cover iOS' });
    // A photo in the topic goes with a follow-up on the same session.
    tg.userSendsPhoto(OWNER, randomBytes(500), {
      ...inForum,
      thread: t1?.threadId,
      caption: 'and this screen',
    });
    const withFile = await tg.waitFor(() =>
      tg
        .messagesInTopic(FORUM, t1?.threadId ?? 0)
        .find((m) => rendered(m.text ?? '').includes('📎 photo-')),
    );
    expect(rendered(withFile.text ?? '')).toMatch(
      new RegExp(`queued for ${ref1.replace(/[.#]/g, '\\$&')}\\n📎`),
    );
    expect(tg.violations).toEqual([]);
  });

  it('closes the topic once its session is destroyed', async () => {
    const { tg, sb, host } = w;
    const [, t2] = tg.topics(FORUM);
    const ref2 = `${host}/me/app#2`;
    await sb.finished(2);
    await sb.ok(['destroy', ref2, '-y', '--force']);
    await tg.waitFor(
      () => tg.topics(FORUM).find((t) => t.threadId === t2?.threadId)?.closed,
      15_000,
    );
    expect(tg.calls('closeForumTopic').map((c) => c.params['message_thread_id'])).toEqual([
      t2?.threadId,
    ]);
    // The other topic stays open.
    expect(tg.topics(FORUM)[0]?.closed).toBe(false);
  });
});

describe('a burst of tasks', () => {
  let tg: FakeTelegram;
  let sb: Sandbox;

  beforeAll(async () => {
    tg = await FakeTelegram.start();
    sb = await localBot(tg);
  });
  afterAll(async () => {
    await sb.cleanup();
    await tg.close();
  });

  it('more than 10 tasks changing within a minute become one digest, delivered once across a restart', async () => {
    // Queued while the daemon is down, so the pushes come as one burst when it is back.
    await sb.ok(['daemon', 'stop']);
    const refs = Array.from({ length: 12 }, (_, i) => `local/me/app#${61 + i}`);
    for (const ref of refs) await sb.ok(['queue', 'enqueue', ref, `work on ${ref}`]);
    await sb.ok(['daemon', 'start']);
    const digestOf = (): ChatMessage[] =>
      tg.messagesIn(OWNER.id).filter((m) => /tasks? changed in the last /.test(m.text ?? ''));
    // The eleventh task opens the digest; everything after goes into it.
    await tg.waitFor(() => digestOf().length === 1, 30_000);
    await sb.ok(['daemon', 'restart']);
    const ids = (await sb.tasks()).map((t) => t.id);
    for (const id of ids) expect((await sb.finished(id)).state).toBe('completed');
    const final = await tg.waitFor(() => {
      const [digest] = digestOf();
      // However long the burst took on a busy machine: one digest, its header saying how long.
      return /^12 tasks changed in the last (minute|\d+ minutes): 12 completed/.test(
        rendered(digest?.text ?? ''),
      )
        ? digest
        : null;
    }, 90_000);
    const lines = rendered(final.text ?? '').split('\n');
    expect(lines.slice(1).sort()).toEqual(
      ids.map((id, i) => `✅ #${id} ${refs[i] ?? ''} completed`).sort(),
    );
    // Ten messages of their own (the first ten queued, before the burst was one), one digest.
    const own = tg.messagesIn(OWNER.id).filter((m) => m.message_id !== final.message_id);
    expect(own.map((m) => rendered(m.text ?? '').split('\n')[0])).toEqual(
      refs.slice(0, 10).map((ref) => `📥 queued · ${ref}`),
    );
    expect(digestOf()).toHaveLength(1);
    // Kept up to date by edits that each show whatever arrived meanwhile: far fewer than the
    // 38 events after the digest opened.
    expect(final.edits).toBeGreaterThan(0);
    expect(final.edits).toBeLessThan(20);
    // Every task event reached the chat exactly once, as a message or a line of the digest.
    const events = (await sb.store().events.list({ unreadOnly: false })).filter((e) =>
      e.type.startsWith('task_'),
    );
    const delivered = sb
      .store()
      .db.all<{ event_id: number; kind: string }>(
        'SELECT event_id, kind FROM chat_deliveries WHERE chat_id = ? ORDER BY event_id',
        OWNER.id,
      );
    expect(delivered.map((d) => d.event_id)).toEqual(events.map((e) => e.id));
    expect(delivered.filter((d) => d.kind === 'message')).toHaveLength(10);
    // A reply to the digest belongs to no one task.
    tg.userSends(OWNER, 'what about these?', { replyTo: final.message_id });
    await messageWhere(tg, (t) => t.startsWith('⚠️ that message belongs to no session'));
    expect(tg.violations).toEqual([]);
  }, 180_000);
});
