/** Attachments: safe names, placement in a workspace, the prompt's note, and what a caption asks. */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captionIntent, fileLine, incomingFile } from '../bot/features/attachments.js';
import {
  STAGING_GRACE_MS,
  attachmentNote,
  placeAttachments,
  pruneStaging,
  safeFileName,
  uniqueName,
} from '../core/attachments.js';
import type { AgentRunRequest, DriverIo } from '../core/agents/agent-backend.js';
import { DEFAULT_POLICY_TEXT, parsePolicy, policyFor } from '../core/approvals/policy.js';
import { promptBody } from '../core/agents/opencode/opencode-driver.js';
import { agentBackend, type AgentSettings } from '../core/agents/registry.js';
import { OperationError, UsageError } from '../core/errors.js';

describe('safeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\system.ini', 'system.ini'],
    ['.bashrc', 'bashrc'],
    ['...', 'fallback.bin'],
    ['', 'fallback.bin'],
    ['a\u0000b\u0007c\n.txt', 'abc.txt'],
    ['evil\u202etxt.exe', 'eviltxt.exe'],
    ['what?<is>"this"|*.png', 'what__is__this___.png'],
    ['a,b.png', 'a_b.png'],
    ['  spaced   out  .md ', 'spaced out .md'],
    ['-rf', 'rf'],
    ['trailing.dots...', 'trailing.dots'],
    ['caf\u0065\u0301.txt', 'caf\u00e9.txt'],
  ])('%j → %j', (raw, safe) => {
    expect(safeFileName(raw, 'fallback.bin')).toBe(safe);
  });

  it('keeps long names within 120 bytes, extension and whole characters kept', () => {
    const name = safeFileName(`${'é'.repeat(200)}.png`, 'x');
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(120);
    expect(name.endsWith('.png')).toBe(true);
    expect(name).toMatch(/^é+\.png$/);
  });

  it('resolves collisions case-insensitively', () => {
    expect(uniqueName('a.png', new Set())).toBe('a.png');
    expect(uniqueName('a.png', new Set(['A.PNG']))).toBe('a-2.png');
    expect(uniqueName('a.png', new Set(['a.png', 'a-2.png']))).toBe('a-3.png');
    expect(uniqueName('README', new Set(['readme']))).toBe('README-2');
  });
});

describe('placing attachments in a workspace', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-attach-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const staged = (name: string, content: string) => {
    const path = join(dir, 'staging', name);
    mkdirSync(join(dir, 'staging'), { recursive: true });
    writeFileSync(path, content);
    return { name, path, mime: 'image/png', size: content.length };
  };

  it('copies into .kugetsu/attachments/<task>/ once, and names them in the prompt', () => {
    const workspace = join(dir, 'ws');
    mkdirSync(workspace);
    const placed = placeAttachments(workspace, 7, [staged('shot.png', 'PNG')]);
    const target = join(workspace, '.kugetsu', 'attachments', '7', 'shot.png');
    expect(placed.map((p) => p.workspacePath)).toEqual([target]);
    expect(readFileSync(target, 'utf8')).toBe('PNG');
    // A retry in the same worktree keeps what is there.
    expect(placeAttachments(workspace, 7, [staged('shot.png', 'changed')])).toHaveLength(1);
    expect(readFileSync(target, 'utf8')).toBe('PNG');
    expect(attachmentNote(placed)).toBe(
      `\n\nThe user attached a file (kept out of git; do not commit it):\n- ${target} (image/png, 3 B) — an image: look at it`,
    );
    expect(attachmentNote([])).toBe('');
  });

  it('refuses a workspace whose .kugetsu/attachments is a symbolic link out of it', () => {
    const workspace = join(dir, 'ws');
    const outside = join(dir, 'outside');
    mkdirSync(join(workspace, '.kugetsu'), { recursive: true });
    mkdirSync(outside);
    symlinkSync(outside, join(workspace, '.kugetsu', 'attachments'));
    expect(() => placeAttachments(workspace, 7, [staged('shot.png', 'PNG')])).toThrow(
      OperationError,
    );
    expect(existsSync(join(outside, '7'))).toBe(false);
  });

  it('prunes staging nobody refers to, once it is old enough', () => {
    const root = join(dir, 'attachments');
    for (const name of ['kept', 'old', 'new']) mkdirSync(join(root, name), { recursive: true });
    writeFileSync(join(root, 'kept', 'a.png'), 'x');
    const old = (Date.now() - STAGING_GRACE_MS - 1000) / 1000;
    utimesSync(join(root, 'old'), old, old);
    utimesSync(join(root, 'kept'), old, old);
    expect(pruneStaging(root, [join(root, 'kept', 'a.png')])).toBe(1);
    expect(['kept', 'old', 'new'].map((n) => existsSync(join(root, n)))).toEqual([
      true,
      false,
      true,
    ]);
  });
});

describe('files from Telegram', () => {
  it('reads /delegate and /continue captions, with or without @bot', () => {
    expect(captionIntent('/delegate fix me/app#3')).toEqual({
      kind: 'delegate',
      text: 'fix me/app#3',
    });
    expect(captionIntent('/delegate@kugetsu_bot')).toEqual({ kind: 'delegate', text: '' });
    expect(captionIntent('/continue me/app#3 look at this')).toEqual({
      kind: 'continue',
      ref: 'me/app#3',
      text: 'look at this',
    });
    expect(captionIntent('/continue me/app#3')).toEqual({
      kind: 'continue',
      ref: 'me/app#3',
      text: '',
    });
    expect(() => captionIntent('/continue')).toThrow(UsageError);
    expect(captionIntent('a holiday photo')).toBeNull();
    expect(captionIntent('/queue')).toBeNull();
    expect(captionIntent(undefined)).toBeNull();
  });

  it('takes the largest photo size, and a document’s name and type made safe', () => {
    const size = (id: string, side: number) => ({
      file_id: id,
      file_unique_id: `u${id}`,
      width: side,
      height: side,
    });
    expect(incomingFile({ photo: [size('a', 90), size('c', 1280), size('b', 320)] })).toMatchObject(
      {
        fileId: 'c',
        name: 'photo-uc.jpg',
        mime: 'image/jpeg',
      },
    );
    const doc = {
      file_id: 'd',
      file_unique_id: 'ud',
      file_name: '../x.log',
      mime_type: 'Text/Plain',
      file_size: 3,
    };
    expect(incomingFile({ document: doc })).toEqual({
      fileId: 'd',
      size: 3,
      name: 'x.log',
      originalName: '../x.log',
      mime: 'text/plain',
    });
    expect(
      incomingFile({ document: { ...doc, file_name: undefined, mime_type: 'no type' } }),
    ).toMatchObject({
      name: 'document-ud',
      originalName: null,
      mime: 'application/octet-stream',
    });
    expect(incomingFile({})).toBeNull();
  });

  it('says what was saved, and under which name', () => {
    const a = { name: 'x.log', path: '/s/x.log', mime: 'text/plain', size: 2048 };
    expect(fileLine(a, null)).toBe('📎 <code>x.log</code> (text/plain, 2.0 KB)');
    expect(fileLine(a, '../<x>.log')).toContain('it came as "../&lt;x&gt;.log"');
  });
});

describe('images for the backends that take them', () => {
  const request: AgentRunRequest = {
    mode: 'start',
    worktree: '/w',
    prompt: 'look',
    agentSessionId: null,
    forkFrom: null,
    model: null,
    // kugetsu's own node_modules/.bin holds both CLIs.
    env: { PATH: '/usr/bin:/bin' },
    writableDirs: [],
    allowedCommands: [],
    policy: policyFor(parsePolicy(DEFAULT_POLICY_TEXT), 'codex'),
    permissionServer: null,
    images: ['/w/.kugetsu/attachments/3/a b.png', '/w/.kugetsu/attachments/3/c.jpg'],
  };
  const settings: AgentSettings = {
    agentCommand: 'x',
    claudePermissionMode: 'acceptEdits',
    claudeAllowedTools: [],
    codexSandbox: 'workspace-write',
    approvalPolicy: parsePolicy(DEFAULT_POLICY_TEXT),
  };

  it('opencode gets each image as a file part of the prompt, before its text', () => {
    const body = promptBody({
      worktree: '/w',
      prompt: 'look',
      model: null,
      session: { kind: 'new' },
      images: request.images ?? [],
      rules: [],
      username: 'u',
      password: 'p',
    });
    expect(body['parts']).toEqual([
      {
        type: 'file',
        mime: 'image/png',
        url: 'file:///w/.kugetsu/attachments/3/a%20b.png',
        filename: 'a b.png',
      },
      {
        type: 'file',
        mime: 'image/jpeg',
        url: 'file:///w/.kugetsu/attachments/3/c.jpg',
        filename: 'c.jpg',
      },
      { type: 'text', text: 'look' },
    ]);
  });

  it('codex gets them as localImage inputs of the prompt’s turn', async () => {
    const { driver } = agentBackend('codex', settings).prepare(request);
    const sent: { id?: number; method?: string; params?: Record<string, unknown> }[] = [];
    const io: DriverIo = {
      write: (text) => {
        for (const line of text.split('\n')) if (line !== '') sent.push(JSON.parse(line) as never);
      },
      endInput: () => undefined,
      emit: () => undefined,
      ask: () => Promise.reject(new Error('no approvals here')),
      note: () => undefined,
      finish: () => undefined,
      signal: new AbortController().signal,
    };
    driver?.start(io);
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    driver?.line(JSON.stringify({ id: 1, result: {} }));
    await settle();
    const open = sent.find((m) => m.method === 'thread/start');
    driver?.line(JSON.stringify({ id: open?.id, result: { thread: { id: 'thr_1' } } }));
    await settle();
    const turn = sent.find((m) => m.method === 'turn/start');
    expect(turn?.params?.['input']).toEqual([
      { type: 'text', text: 'look', text_elements: [] },
      ...(request.images ?? []).map((path) => ({ type: 'localImage', path })),
    ]);
  });

  it('claude reads them from the prompt (its Read tool opens images)', () => {
    const args = agentBackend('claude', settings).prepare(request).args;
    expect(args.join(' ')).not.toContain('.kugetsu/attachments');
  });
});
