/** The HTTP API, files sent with a task and their transcription, and retries and stops. */
import * as t from '../value-types.js';
import type { Setting } from './setting.js';

export const INTERFACE_SETTINGS = [
  {
    key: 'KUGETSU_HTTP_LISTEN',
    field: 'httpListen',
    type: t.hostPort(),
    doc: 'host:port the daemon serves the HTTP API on (docs/api.md), e.g. 127.0.0.1:7420; unset: no HTTP server. Tokens from `kugetsu api token create`.',
  },
  {
    key: 'KUGETSU_HTTP_CORS_ORIGIN',
    field: 'httpCorsOrigin',
    type: t.httpUrl(),
    doc: 'The one browser origin (e.g. https://dash.example.com) allowed to call the HTTP API from another site; unset: CORS is off.',
  },
  {
    key: 'KUGETSU_HTTP_RATE_LIMIT',
    field: 'httpRateLimit',
    type: t.wholeNumber({ min: 1, max: 1_000_000 }),
    default: '600',
    doc: 'Requests per minute each HTTP API token may make (bursts up to as many); over it, 429 with Retry-After.',
  },
  {
    key: 'KUGETSU_ATTACHMENT_MAX_MB',
    field: 'attachmentMaxBytes',
    type: t.megabytes(2000),
    default: '20',
    doc: "Largest file (photo, document, voice note) the bot accepts with a task, in MB; Telegram's cloud Bot API serves bots at most 20.",
  },
  {
    key: 'KUGETSU_TRANSCRIBE_URL',
    field: 'transcribeUrl',
    type: t.httpUrl(),
    doc: 'OpenAI-compatible transcription endpoint for Telegram voice notes, e.g. https://api.openai.com/v1/audio/transcriptions (unset: voice notes are refused).',
  },
  {
    key: 'KUGETSU_TRANSCRIBE_MODEL',
    field: 'transcribeModel',
    type: t.matching(/^\S{1,200}$/, 'a model name without spaces'),
    default: 'whisper-1',
    doc: 'Model the transcription endpoint is asked for.',
  },
  {
    key: 'KUGETSU_TRANSCRIBE_API_KEY',
    field: 'transcribeApiKey',
    type: t.matching(/^\S{1,2000}$/, 'a key without spaces'),
    secret: true,
    doc: "Bearer key of the transcription endpoint. kugetsu's own secret: keep it here or in the environment, not in env/*.env (agents get those).",
  },
  {
    key: 'KUGETSU_RETRY_BASE_SECONDS',
    field: 'retryBaseMs',
    type: t.seconds(),
    default: '10',
    doc: 'Delay before the first retry of a failed run; it doubles per attempt, capped at 5 minutes.',
  },
  {
    key: 'KUGETSU_KILL_GRACE_SECONDS',
    field: 'killGraceMs',
    type: t.seconds(),
    default: '10',
    doc: "Stop, timeout and shutdown send SIGTERM to the agent's process group, then SIGKILL after this long.",
  },
] as const satisfies readonly Setting[];
