/**
 * Voice notes: downloaded through the Bot API, transcribed by the configured OpenAI-compatible
 * endpoint, echoed back ("🎙 I heard: …") and then handled as if the user had typed them — a
 * reply continues the replied session, anything else is a plain-text request (so a PM-bound one
 * still asks first). Without KUGETSU_TRANSCRIBE_URL the bot says how to turn it on.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Composer, type Context } from 'grammy';
import { newStagingDir } from '../../core/attachments.js';
import { OperationError } from '../../core/errors.js';
import { askPm, continueTask } from '../../core/operations/tasks.js';
import { transcribe } from '../../core/transcription.js';
import { escapeHtml, truncate } from '../views/format.js';
import type { FeatureDeps } from './feature-deps.js';
import { isRealReply } from '../message-kind.js';
import { PM_TARGET, replyTarget } from '../reply-target.js';
import { takeRequest } from './requests.js';
import { queuedHtml } from '../views/request-view.js';
import { downloadTelegramFile, tooLarge } from '../telegram-files.js';

export const VOICE_NOT_CONFIGURED =
  '🎙 Voice notes need a transcription endpoint: set KUGETSU_TRANSCRIBE_URL (an OpenAI-compatible /v1/audio/transcriptions) and KUGETSU_TRANSCRIBE_API_KEY in config.env, then restart the daemon.';
const HEARD_NOTHING = '🎙 I heard nothing I could write down: try again, or type it.';

/** Escaping can grow text fivefold; this much of a transcript always fits one message. */
const ECHO_LIMIT = 700;

/** The echo of a transcript, cut to fit one message. Pure. */
export function heardHtml(text: string): string {
  return `🎙 I heard: <i>${escapeHtml(truncate(text, ECHO_LIMIT))}</i>`;
}

/** Downloads and transcribes the voice note of `ctx`; null when there is none. */
async function transcribeVoice(deps: FeatureDeps, ctx: Context): Promise<string | null> {
  const { home } = deps;
  const voice = ctx.message?.voice;
  if (voice === undefined) return null;
  const url = home.config.transcribeUrl;
  if (url === undefined) {
    await ctx.reply(VOICE_NOT_CONFIGURED);
    return null;
  }
  const max = home.config.attachmentMaxBytes;
  if (voice.file_size !== undefined && voice.file_size > max) throw tooLarge(voice.file_size, max);
  const dir = newStagingDir(home.paths.attachmentsDir);
  try {
    const path = join(dir, 'voice.ogg');
    await downloadTelegramFile(
      { api: ctx.api, apiRoot: home.config.telegramApiRoot, token: deps.token },
      voice.file_id,
      path,
      max,
    );
    await ctx.replyWithChatAction('typing').catch(() => undefined);
    return await transcribe(
      {
        url,
        apiKey: home.config.transcribeApiKey ?? null,
        model: home.config.transcribeModel,
      },
      // Telegram's voice notes are OGG/Opus; the extension tells the endpoint so.
      { data: readFileSync(path), fileName: 'voice.ogg', mime: voice.mime_type ?? 'audio/ogg' },
    );
  } finally {
    // The audio is not kept: only its text goes on.
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Continues the session a message replies to with `text`, as a typed reply would. */
async function continueReplied(deps: FeatureDeps, ctx: Context, text: string): Promise<void> {
  const { home } = deps;
  const replied = ctx.message?.reply_to_message;
  if (replied === undefined || ctx.chat === undefined) return;
  const ref = await replyTarget(home.store, deps.bot, ctx.chat.id, replied.message_id);
  if (ref === null)
    throw new OperationError('that message belongs to no session: use /continue REF …');
  const queued = ref === PM_TARGET ? await askPm(home, text) : await continueTask(home, ref, text);
  await deps.ensureDaemon();
  await ctx.reply(queuedHtml(queued.task), { parse_mode: 'HTML' });
}

/**
 * Transcribes the voice note of `ctx` and echoes what was heard; null when there was nothing
 * to go on (no endpoint, no words), which the user has been told.
 */
export async function hearVoice(deps: FeatureDeps, ctx: Context): Promise<string | null> {
  const text = await transcribeVoice(deps, ctx);
  if (text === null) return null;
  if (text === '') {
    await ctx.reply(HEARD_NOTHING);
    return null;
  }
  await ctx.reply(heardHtml(text), { parse_mode: 'HTML' });
  return text;
}

export function voiceFeature<C extends Context>(deps: FeatureDeps): Composer<C> {
  const composer = new Composer<C>();
  composer.on('message:voice', async (ctx) => {
    const text = await hearVoice(deps, ctx);
    if (text === null) return;
    const message = ctx.message;
    const toBot =
      message !== undefined &&
      isRealReply(message) &&
      message.reply_to_message?.from?.id === ctx.me.id;
    await (toBot ? continueReplied(deps, ctx, text) : takeRequest(deps, ctx, text));
  });
  return composer;
}
