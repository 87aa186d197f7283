/**
 * Photos and documents with a task: sent with `/delegate …` or `/continue REF …` as the
 * caption, or in reply to a session's notification. Everything that can be checked is checked
 * before a byte is downloaded (the command, the issue, the session, the size); the file is
 * then downloaded into a fresh staging directory under the home and handed to core as a task
 * attachment. A failure anywhere removes what was staged: nothing is left half-written.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Composer, type Context } from 'grammy';
import type { Message } from 'grammy/types';
import { parseAgentName } from '../../core/agents/registry.js';
import { formatBytes, newStagingDir, safeFileName } from '../../core/attachments.js';
import type { TaskAttachment } from '../../core/domain.js';
import { OperationError, UsageError } from '../../core/errors.js';
import { continueTask, delegate, validateMessage } from '../../core/operations/tasks.js';
import { assertCanContinue } from '../../core/session-rules.js';
import { resolveTarget, targetInText } from '../../core/targets.js';
import { escapeHtml } from '../views/format.js';
import type { FeatureDeps } from './feature-deps.js';
import { isRealReply } from '../message-kind.js';
import { PM_TARGET, replyTarget } from '../reply-target.js';
import { queuedHtml } from '../views/request-view.js';
import { parseTaskFlags } from '../task-flags.js';
import { downloadTelegramFile, tooLarge } from '../telegram-files.js';

/** The message a file gets when its caption says nothing else. */
export const DEFAULT_FILE_MESSAGE = 'Look at the attached file.';

export const FILES_HINT =
  'Send files with /delegate or /continue REF as the caption, or in reply to a notification.';

const NEEDS_ISSUE =
  'files need an issue to go with: name one in the caption (e.g. /delegate me/app#14 what to do)';

/** What the user sent, as a file to fetch. */
export interface IncomingFile {
  fileId: string;
  /** As Telegram states it; undefined when it does not. */
  size: number | undefined;
  /** Already a safe file name. */
  name: string;
  /** What the user's client called it, when that differs from `name`. */
  originalName: string | null;
  mime: string;
}

/** Where a file goes: a new task from `/delegate`, or a follow-up on a session. */
export type FileIntent =
  { kind: 'delegate'; text: string } | { kind: 'continue'; ref: string; text: string };

const MIME = /^[A-Za-z0-9][\w.+-]{0,63}\/[A-Za-z0-9][\w.+-]{0,63}$/;

/** The file of a photo (its largest size) or document message; null for anything else. Pure. */
export function incomingFile(message: Pick<Message, 'photo' | 'document'>): IncomingFile | null {
  const photo = message.photo?.reduce((best, size) =>
    size.width * size.height > best.width * best.height ? size : best,
  );
  if (photo !== undefined) {
    return {
      fileId: photo.file_id,
      size: photo.file_size,
      name: `photo-${safeFileName(photo.file_unique_id, 'telegram')}.jpg`,
      originalName: null,
      mime: 'image/jpeg',
    };
  }
  const document = message.document;
  if (document === undefined) return null;
  const fallback = `document-${safeFileName(document.file_unique_id, 'telegram')}`;
  const name = safeFileName(document.file_name, fallback);
  return {
    fileId: document.file_id,
    size: document.file_size,
    name,
    originalName:
      document.file_name !== undefined && document.file_name !== name ? document.file_name : null,
    mime:
      document.mime_type !== undefined && MIME.test(document.mime_type)
        ? document.mime_type.toLowerCase()
        : 'application/octet-stream',
  };
}

/**
 * What a caption asks for: `/delegate TEXT` or `/continue REF [TEXT]` (with or without
 * `@botname`); null for any other caption. Pure.
 */
export function captionIntent(caption: string | undefined): FileIntent | null {
  const match = /^\/(delegate|continue)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(
    (caption ?? '').trim(),
  );
  if (match === null) return null;
  const rest = (match[2] ?? '').trim();
  if (match[1] === 'delegate') return { kind: 'delegate', text: rest };
  const [ref = '', ...words] = rest.split(/\s+/);
  if (ref === '') throw new UsageError('usage: /continue REF what to do next (as the caption)');
  return { kind: 'continue', ref, text: words.join(' ') };
}

/**
 * Downloads `file` into a fresh staging directory and queues it with `intent`. Shared with the
 * forum-topic feature, whose messages continue their session.
 */
export async function queueWithFile(
  deps: FeatureDeps,
  ctx: Context,
  intent: FileIntent,
  file: IncomingFile,
): Promise<void> {
  const { home } = deps;
  const flags = parseTaskFlags(intent.text);
  const message = validateMessage(flags.message === '' ? DEFAULT_FILE_MESSAGE : flags.message);
  const options = { agent: parseAgentName(flags.agent), model: flags.model };
  // Everything that can refuse does so before the download.
  if (intent.kind === 'delegate') {
    if (intent.text === '' || (await Promise.resolve(await targetInText(home, message))) === null)
      throw new UsageError(NEEDS_ISSUE);
  } else {
    const target = await resolveTarget(home, intent.ref);
    assertCanContinue(target.issueRef, await home.store.sessions.get(target.issueRef));
  }
  const max = home.config.attachmentMaxBytes;
  if (file.size !== undefined && file.size > max) throw tooLarge(file.size, max);

  const dir = newStagingDir(home.paths.attachmentsDir);
  let queued;
  try {
    const path = join(dir, file.name);
    const size = await downloadTelegramFile(
      { api: ctx.api, apiRoot: home.config.telegramApiRoot, token: deps.token },
      file.fileId,
      path,
      max,
    );
    const attachments: TaskAttachment[] = [{ name: file.name, path, mime: file.mime, size }];
    queued =
      intent.kind === 'delegate'
        ? await delegate(home, message, { ...options, attachments })
        : await continueTask(home, intent.ref, message, { ...options, attachments });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  await deps.ensureDaemon();
  const [attachment] = await home.store.tasks.attachments(queued.task.id);
  await ctx.reply(
    `${queuedHtml(queued.task, queued.note)}\n${attachment === undefined ? '' : fileLine(attachment, file.originalName)}`,
    { parse_mode: 'HTML' },
  );
}

/** `📎 name (mime, size)`, and the name it came with when that had to change. Pure. */
export function fileLine(attachment: TaskAttachment, originalName: string | null): string {
  const line = `📎 <code>${escapeHtml(attachment.name)}</code> (${escapeHtml(attachment.mime)}, ${formatBytes(attachment.size)})`;
  return originalName === null
    ? line
    : `${line}\n<i>saved under a safe name; it came as ${escapeHtml(JSON.stringify(originalName).slice(0, 200))}</i>`;
}

export function attachmentsFeature<C extends Context>(deps: FeatureDeps): Composer<C> {
  const { home } = deps;
  const composer = new Composer<C>();
  composer.on(['message:photo', 'message:document'], async (ctx) => {
    const message = ctx.message;
    const file = message === undefined ? null : incomingFile(message);
    if (message === undefined || file === null) return;
    const fromCaption = captionIntent(message.caption);
    if (fromCaption !== null) {
      await queueWithFile(deps, ctx, fromCaption, file);
      return;
    }
    if (isRealReply(message) && message.reply_to_message?.from?.id === ctx.me.id) {
      const ref = await replyTarget(
        home.store,
        deps.bot,
        message.chat.id,
        message.reply_to_message.message_id,
      );
      if (ref === null)
        throw new OperationError(
          'that message belongs to no session: use /continue REF … as the caption',
        );
      if (ref === PM_TARGET) throw new UsageError(NEEDS_ISSUE);
      await queueWithFile(deps, ctx, { kind: 'continue', ref, text: message.caption ?? '' }, file);
      return;
    }
    await ctx.reply(FILES_HINT);
  });
  return composer;
}
