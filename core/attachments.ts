/**
 * Files that come with a task (a screenshot, a log): where they wait, what they may be called,
 * and how they reach the agent. Whoever receives a file (the Telegram bot) stages it under the
 * home's `attachments/` before the task exists; the runner copies it into the task's workspace,
 * under `.kugetsu/attachments/<task id>/`, which git is told to ignore, and names it in the
 * prompt. Nothing here knows where a file came from.
 */
import { randomBytes } from 'node:crypto';
import {
  constants,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  type Stats,
} from 'node:fs';
import { basename, join } from 'node:path';
import type { TaskAttachment } from './domain.js';
import { OperationError } from './errors.js';

/** Inside a workspace: the folder the agent is told about, ignored by git. */
export const WORKSPACE_ATTACHMENTS = '.kugetsu/attachments';

/** Bytes a file name may take (ext4 allows 255; room is left for a collision suffix). */
const MAX_NAME_BYTES = 120;
/** Most files one task may carry. */
export const MAX_ATTACHMENTS = 10;
/** A staging directory nothing refers to is removed once it is this old (a crash mid-upload). */
export const STAGING_GRACE_MS = 60 * 60_000;

/**
 * A file name that is safe to create anywhere: no directory part, no control or bidi-override
 * characters, nothing the shell or Windows would trip over, not hidden (no leading dot), not
 * empty, at most {@link MAX_NAME_BYTES} bytes with its extension kept. `fallback` (already safe)
 * is used when nothing is left. Pure.
 */
export function safeFileName(raw: string | undefined, fallback: string): string {
  const base = (raw ?? '').normalize('NFC').split(/[/\\]/).pop() ?? '';
  const cleaned = base
    // C0/C1 controls, DEL, and the Unicode format characters that reorder or hide text.
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    // Commas too: some agent CLIs split a list of file arguments on them.
    .replace(/[<>:"|?*,]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s-]+/, '')
    .replace(/[.\s]+$/, '');
  if (cleaned === '') return fallback;
  return truncateName(cleaned, MAX_NAME_BYTES);
}

/** Cuts a name to `maxBytes` of UTF-8, keeping a short extension and whole characters. */
function truncateName(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = name.slice(0, name.length - ext.length);
  while (stem !== '' && Buffer.byteLength(stem + ext) > maxBytes)
    stem = [...stem].slice(0, -1).join('');
  return stem === '' ? name.slice(0, 16) : stem + ext;
}

/** `name`, or `name-2.ext`, `name-3.ext`… — the first one not in `taken` (case-insensitive). */
export function uniqueName(name: string, taken: ReadonlySet<string>): string {
  const lower = new Set([...taken].map((n) => n.toLowerCase()));
  if (!lower.has(name.toLowerCase())) return name;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let n = 2; ; n += 1) {
    const candidate = `${stem}-${n}${ext}`;
    if (!lower.has(candidate.toLowerCase())) return candidate;
  }
}

export function isImage(mime: string): boolean {
  return /^image\/(png|jpeg|gif|webp)$/.test(mime);
}

/** A new, private staging directory under `attachmentsRoot`: `<time>-<random>`. */
export function newStagingDir(attachmentsRoot: string, now = Date.now()): string {
  const dir = join(attachmentsRoot, `${now.toString(36)}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export interface PlacedAttachment extends TaskAttachment {
  /** Where the agent finds it: an absolute path inside the workspace. */
  workspacePath: string;
}

/**
 * Copies a task's files into `<workspace>/.kugetsu/attachments/<task id>/` (again on a retry
 * whose worktree was made anew; a copy already there is kept). A file that vanished from
 * staging is left out rather than failing the run.
 */
export function placeAttachments(
  workspace: string,
  taskId: number,
  attachments: readonly TaskAttachment[],
): PlacedAttachment[] {
  if (attachments.length === 0) return [];
  const dir = realDirectory(workspace, [...WORKSPACE_ATTACHMENTS.split('/'), String(taskId)]);
  const placed: PlacedAttachment[] = [];
  for (const attachment of attachments) {
    const target = join(dir, basename(attachment.name));
    const existing = lstatOrNull(target);
    if (existing !== null && !existing.isFile()) {
      throw new OperationError(`${target} is not a plain file: refusing to place an attachment`);
    }
    if (existing === null) {
      if (!existsSync(attachment.path)) continue;
      // EXCL: never write through something that appeared at the target meanwhile.
      copyFileSync(attachment.path, target, constants.COPYFILE_EXCL);
    }
    placed.push({ ...attachment, workspacePath: target });
  }
  return placed;
}

/**
 * `root/a/b/c`, made one level at a time, each level a real directory. A repository can commit
 * `.kugetsu/attachments` as a symbolic link to anywhere; following it would write the user's
 * files outside the workspace.
 */
function realDirectory(root: string, parts: readonly string[]): string {
  let dir = root;
  for (const part of parts) {
    dir = join(dir, part);
    const stat = lstatOrNull(dir);
    if (stat === null) mkdirSync(dir, { mode: 0o700 });
    else if (!stat.isDirectory()) {
      throw new OperationError(
        `${dir} is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}: refusing to place attachments there`,
      );
    }
  }
  return dir;
}

function lstatOrNull(path: string): Stats | null {
  return lstatSync(path, { throwIfNoEntry: false }) ?? null;
}

/** The lines the prompt gets about a task's files. Pure. */
export function attachmentNote(placed: readonly PlacedAttachment[]): string {
  if (placed.length === 0) return '';
  const lines = placed.map(
    (a) =>
      `- ${a.workspacePath} (${a.mime}, ${formatBytes(a.size)})${isImage(a.mime) ? ' — an image: look at it' : ''}`,
  );
  return [
    '',
    '',
    `The user attached ${placed.length === 1 ? 'a file' : `${placed.length} files`} (kept out of git; do not commit ${placed.length === 1 ? 'it' : 'them'}):`,
    ...lines,
  ].join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Removes staging directories no task refers to any more (their tasks were cleaned up), and
 * ones a crash left behind, once older than {@link STAGING_GRACE_MS}. Returns how many.
 */
export function pruneStaging(
  attachmentsRoot: string,
  referencedPaths: readonly string[],
  now = Date.now(),
): number {
  if (!existsSync(attachmentsRoot)) return 0;
  const referenced = new Set(referencedPaths.map((p) => join(p, '..')));
  let removed = 0;
  for (const entry of readdirSync(attachmentsRoot)) {
    const dir = join(attachmentsRoot, entry);
    if (referenced.has(dir)) continue;
    try {
      if (now - statSync(dir).mtimeMs < STAGING_GRACE_MS) continue;
      rmSync(dir, { recursive: true, force: true });
      removed += 1;
    } catch {
      // Gone already.
    }
  }
  return removed;
}
