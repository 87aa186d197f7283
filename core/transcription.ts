/**
 * Speech to text through an OpenAI-compatible transcription endpoint
 * (`POST …/v1/audio/transcriptions`, multipart `file` + `model`, answered `{ "text": … }`):
 * OpenAI itself, or a self-hosted whisper server that speaks the same protocol. The key is
 * kugetsu's own secret (KUGETSU_TRANSCRIBE_API_KEY): it goes in the Authorization header and
 * nowhere else — every error is one line with the key cut out.
 */
import { OperationError } from './errors.js';

export interface TranscriptionSettings {
  /** The endpoint itself, e.g. `https://api.openai.com/v1/audio/transcriptions`. */
  url: string;
  apiKey: string | null;
  /** Default `whisper-1`. */
  model: string;
  /** Per request. Default 120 000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface Audio {
  data: Buffer;
  /** A file name with the right extension: endpoints guess the format from it. */
  fileName: string;
  mime: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** A transcript longer than this is not a message anyone dictated. */
const MAX_TEXT = 16_000;

/** The transcript, trimmed; empty when the endpoint heard nothing. */
export async function transcribe(settings: TranscriptionSettings, audio: Audio): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([audio.data], { type: audio.mime }), audio.fileName);
  form.append('model', settings.model);
  form.append('response_format', 'json');
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (settings.apiKey !== null) headers['Authorization'] = `Bearer ${settings.apiKey}`;
  const scrub = (text: string): string =>
    (settings.apiKey === null ? text : text.split(settings.apiKey).join('***'))
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 300);
  let response: Response;
  let body: string;
  try {
    response = await (settings.fetch ?? fetch)(settings.url, {
      method: 'POST',
      headers,
      body: form,
      signal: AbortSignal.timeout(settings.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    body = await response.text();
  } catch (err) {
    const error = err as { name?: string; cause?: { code?: string } };
    const reason =
      error.name === 'TimeoutError'
        ? 'no answer in time'
        : (error.cause?.code ?? error.name ?? 'network error');
    throw new OperationError(
      `transcription failed: cannot reach ${originOf(settings.url)} (${scrub(reason)})`,
    );
  }
  if (!response.ok) {
    const said = errorText(body) || response.statusText;
    throw new OperationError(`transcription failed: ${response.status} ${scrub(said)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new OperationError('transcription failed: the endpoint answered with something not JSON');
  }
  const text = (parsed as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') {
    throw new OperationError('transcription failed: the answer has no "text"');
  }
  return text.trim().slice(0, MAX_TEXT);
}

/** OpenAI's `{ "error": { "message" } }`, or a plain `message` / `detail` (other servers). */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      message?: unknown;
      detail?: unknown;
    };
    const candidates = [
      typeof parsed.error === 'string' ? parsed.error : parsed.error?.message,
      parsed.message,
      parsed.detail,
    ];
    return candidates.find((c): c is string => typeof c === 'string') ?? '';
  } catch {
    return body.trim().startsWith('<') ? '' : (body.split('\n')[0] ?? '');
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the endpoint';
  }
}
