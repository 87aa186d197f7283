/**
 * A local Telegram Bot API server for end-to-end tests. It speaks the real HTTP protocol
 * (`POST /bot<token>/<method>`, JSON, urlencoded or multipart bodies, `{ ok, result }`
 * envelopes, long-polling `getUpdates`), so the bot under test runs its real grammY client
 * pointed here through `client.apiRoot`. Every request is checked against the official
 * method reference in `../shared/telegram-bot-api.json` beside the repository; without it the
 * fake refuses to start rather than let every bot test pass unchecked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, posix } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type {
  ApiError,
  Chat,
  Document,
  File,
  ForumTopic,
  InlineKeyboardButton,
  InlineKeyboardMarkup,
  Message,
  MessageEntity,
  PhotoSize,
  Update,
  User,
  Voice,
} from '@grammyjs/types';

// ---------------------------------------------------------------------------------------------
// Wire types: the Bot API's own, from @grammyjs/types (what grammY itself is typed with).

export type { Update };
export type TelegramFile = File;
/** The fake has private chats, groups and supergroups; no channels. */
type TelegramChat = Exclude<Chat, Chat.ChannelChat>;
/** The fake always names a document. */
type TelegramDocument = Document & { file_name: string };
export type TelegramMessage = Message & Update.NonChannel;
type ApiErrorBody = Omit<ApiError, 'ok'>;
/** A button as the bot sent it: a callback or a link. */
type SentButton = Pick<InlineKeyboardButton.CallbackButton, 'text'> &
  Partial<Pick<InlineKeyboardButton.CallbackButton, 'callback_data'>> &
  Partial<Pick<InlineKeyboardButton.UrlButton, 'url'>>;
/** The `reply_markup` the bot sent: an inline keyboard, or a force_reply and the like. */
export interface SentMarkup {
  inline_keyboard?: SentButton[][];
  [field: string]: unknown;
}

/** One API call as the server understood it: multipart/urlencoded strings already decoded. */
export interface RecordedRequest {
  method: string;
  /** Uploaded files appear as `{ filename, size, content }` with `content` read as UTF-8. */
  params: Record<string, unknown>;
  /** `Date.now()` when the request arrived. */
  at: number;
}

/** A bot message as a test wants to assert on it: what the bot sent, after any edits. */
export interface ChatMessage {
  message_id: number;
  /** The text as sent, markup included (the user-visible text is in the wire Message). */
  text?: string;
  caption?: string;
  document?: { file_name: string; content: string };
  parse_mode?: string;
  reply_markup?: SentMarkup;
  disable_notification?: boolean;
  reply_to_message_id?: number;
  /** The forum topic it was sent to; absent in the General topic and outside forums. */
  message_thread_id?: number;
  edits: number;
}

/** A forum topic as a test sees it. */
export interface TopicView {
  threadId: number;
  name: string;
  closed: boolean;
}

export interface FakeTelegramOptions {
  /** The only token the server accepts. Default `123456:TEST-token-abcdefghijklmnopqrstuvwxyz`. */
  token?: string;
}

export interface FakeUser {
  id: number;
  first_name?: string;
  username?: string;
}

export interface UserSendOptions {
  /** Default: the private chat with the sender (id = `from.id`). */
  chat?: { id: number; type: 'private' | 'group' | 'supergroup'; title?: string };
  /** The id of a bot message in that chat to reply to. */
  replyTo?: number;
  /** In a forum: the topic (message_thread_id) the message is written in. */
  thread?: number;
}

/** A file a user sends: a photo, a document or a voice note. */
export interface UserFileOptions extends UserSendOptions {
  caption?: string;
  /** Documents: the name the user's client sends (may be anything, hostile included). */
  fileName?: string;
  mimeType?: string;
  /** Voice notes: seconds. */
  duration?: number;
  /**
   * Leave `file_size` out of the message and of `getFile`, as Telegram may; the bot then has to
   * enforce its limit while downloading.
   */
  omitSize?: boolean;
}

// ---------------------------------------------------------------------------------------------
// The method reference.

interface ApiField {
  name: string;
  types: string[];
  required: boolean;
}

interface ApiReference {
  version: string;
  methods: Record<string, { name: string; fields?: ApiField[] }>;
  types: Record<string, { name: string; fields?: ApiField[]; subtypes?: string[] }>;
}

function findRepoRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

const REFERENCE_PATH = join(
  findRepoRoot(import.meta.dirname),
  '..',
  'shared',
  'telegram-bot-api.json',
);

let cachedReference: ApiReference | undefined;

/** The reference is 900 KB; parse it once per test process, not once per server. */
function loadReference(): ApiReference {
  if (cachedReference === undefined) {
    if (!existsSync(REFERENCE_PATH))
      throw new Error(`the Bot API reference is missing: expected ${REFERENCE_PATH}`);
    cachedReference = JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) as ApiReference;
  }
  return cachedReference;
}

// ---------------------------------------------------------------------------------------------
// Constants that mirror Telegram's behaviour.

const DEFAULT_TOKEN = '123456:TEST-token-abcdefghijklmnopqrstuvwxyz';
/** Telegram holds a poll for up to `timeout` seconds; tests and shutdown must not wait that long. */
const MAX_POLL_HOLD_SECONDS = 2;
const FIRST_MESSAGE_ID = 1000;
const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const CALLBACK_DATA_MAX_BYTES = 64;
/** The colours `createForumTopic` accepts (the Bot API reference lists exactly these). */
const TOPIC_COLORS = [0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f];
/** tdlib cuts a topic name to this many characters (MAX_FORUM_TOPIC_TITLE_LENGTH). */
const TOPIC_NAME_LIMIT = 128;
const THREAD_NOT_FOUND = 'Bad Request: message thread not found';
/** The cloud Bot API lets bots download files up to 20 MB (getFile answers "file is too big"). */
const GET_FILE_LIMIT = 20 * 1024 * 1024;
const POLL_CONFLICT =
  'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
/** Telegram leaves these out of getUpdates unless `allowed_updates` names them. */
const OPT_IN_UPDATES = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);
const BUTTON_ACTIONS =
  `url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat
  switch_inline_query_chosen_chat copy_text callback_game pay`.split(/\s+/);
const HTML_TAGS = new Set(
  'b strong i em u ins s strike del a code pre blockquote tg-spoiler span'.split(' '),
);
type Params = Record<string, unknown>;

class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: ApiErrorBody['parameters'],
  ) {
    super(description);
  }
}

class BodyError extends Error {}

/** What a Bot API front that is down does to a request, before Telegram ever sees it. */
export type OutageKind = 'drop' | 'bad-gateway';

/** Ends a pending long poll the way an outage ends every other request. */
class OutageHit extends Error {
  constructor(readonly kind: OutageKind) {
    super(kind);
  }
}

/** The page Telegram's nginx front answers with while the Bot API behind it is down. */
const BAD_GATEWAY_PAGE =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

class UploadedFile {
  constructor(
    readonly filename: string,
    readonly content: Buffer,
  ) {}
}

// ---------------------------------------------------------------------------------------------
// Request bodies.

interface ParsedBody {
  params: Params;
  /** Keys whose values arrived as text (query, urlencoded, multipart): "42" may mean 42. */
  textKeys: Set<string>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerParams(header: string): { value: string; params: Map<string, string> } {
  const [value = '', ...rest] = header.split(';');
  const params = new Map<string, string>();
  // grammY writes `filename=report.txt` unquoted and without spaces; browsers and undici quote.
  const joined = rest.join(';');
  for (const m of joined.matchAll(/\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const key = (m[1] ?? '').toLowerCase();
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    params.set(key, raw);
  }
  // grammY does not quote, so an unquoted filename (always its last parameter) runs to the end.
  const bare = /;\s*filename=(?!")(.*)$/i.exec(header)?.[1];
  if (bare !== undefined) params.set('filename', bare.trim());
  const extended = params.get('filename*');
  if (extended !== undefined) {
    const encoded = /^[^']*'[^']*'(.*)$/.exec(extended)?.[1];
    if (encoded !== undefined) params.set('filename', decodeURIComponent(encoded));
  }
  return { value: value.trim().toLowerCase(), params };
}

interface MultipartPart {
  name: string;
  filename: string | undefined;
  content: Buffer;
}

function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const opening = Buffer.from(`--${boundary}`);
  const separator = Buffer.from(`\r\n--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(opening);
  if (pos < 0) throw new BodyError('multipart body does not contain its boundary');
  pos += opening.length;
  for (;;) {
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    const lineEnd = body.indexOf('\r\n', pos);
    if (lineEnd < 0) throw new BodyError('multipart body ends inside a boundary line');
    const start = lineEnd + 2;
    const end = body.indexOf(separator, start);
    if (end < 0) throw new BodyError('multipart body has no closing boundary');
    parts.push(parsePart(body.subarray(start, end)));
    pos = end + separator.length;
  }
}

function parsePart(part: Buffer): MultipartPart {
  const headerEnd = part.subarray(0, 2).toString() === '\r\n' ? 0 : part.indexOf('\r\n\r\n');
  if (headerEnd < 0) throw new BodyError('multipart part has no blank line after its headers');
  const headers = new Map<string, string>();
  for (const line of part.subarray(0, headerEnd).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1));
  }
  const disposition = headerParams(headers.get('content-disposition') ?? '');
  const name = disposition.params.get('name');
  if (disposition.value !== 'form-data' || name === undefined) {
    throw new BodyError('multipart part lacks "Content-Disposition: form-data; name=..."');
  }
  return {
    name,
    filename: disposition.params.get('filename'),
    content: part.subarray(headerEnd === 0 ? 2 : headerEnd + 4),
  };
}

function parseBody(
  contentType: string | undefined,
  body: Buffer,
  query: URLSearchParams,
  fieldNames: ReadonlySet<string> | undefined,
): ParsedBody {
  const params: Params = {};
  const textKeys = new Set<string>();
  for (const [k, v] of query) {
    params[k] = v;
    textKeys.add(k);
  }
  if (body.length === 0) return { params, textKeys };
  const type = headerParams(contentType ?? '');
  if (type.value === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new BodyError('request body is not valid JSON');
    }
    if (!isPlainObject(parsed)) throw new BodyError('JSON request body must be an object');
    for (const [k, v] of Object.entries(parsed)) {
      params[k] = v;
      textKeys.delete(k);
    }
  } else if (type.value === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) {
      params[k] = v;
      textKeys.add(k);
    }
  } else if (type.value === 'multipart/form-data') {
    const boundary = type.params.get('boundary');
    if (boundary === undefined) throw new BodyError('multipart content-type has no boundary');
    const files = new Map<string, UploadedFile>();
    for (const part of parseMultipart(body, boundary)) {
      if (part.filename !== undefined) {
        files.set(part.name, new UploadedFile(part.filename, part.content));
      } else {
        params[part.name] = part.content.toString('utf8');
        textKeys.add(part.name);
      }
    }
    attachFiles(params, textKeys, files, fieldNames);
  } else {
    throw new BodyError(`unsupported content-type "${contentType ?? ''}"`);
  }
  return { params, textKeys };
}

/**
 * grammY (like the Bot API docs) sends a file as its own part under a random name and puts
 * `attach://<name>` in the field; curl-style clients put the file straight under the field.
 */
function attachFiles(
  params: Params,
  textKeys: Set<string>,
  files: Map<string, UploadedFile>,
  fieldNames: ReadonlySet<string> | undefined,
): void {
  const used = new Set<string>();
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'string' || !value.startsWith('attach://')) continue;
    const file = files.get(value.slice('attach://'.length));
    if (file === undefined) continue;
    params[key] = file;
    textKeys.delete(key);
    used.add(value.slice('attach://'.length));
  }
  const texts = Object.values(params).filter((v): v is string => typeof v === 'string');
  for (const [name, file] of files) {
    if (used.has(name)) continue;
    // Files referenced from inside a JSON field (InputMedia) are attachments, not parameters.
    const nested = texts.some((t) => t.includes(`attach://${name}`));
    if (nested && !(fieldNames?.has(name) ?? false)) continue;
    params[name] = file;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema validation.

type Conformed =
  { ok: true; value: unknown } | { ok: false; problem: string; depth: number; shallow: boolean };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof UploadedFile)
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof UploadedFile) return 'file';
  return typeof value;
}

function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function fieldPath(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function conformFields(
  ref: ApiReference,
  fields: readonly ApiField[],
  value: Record<string, unknown>,
  prefix: string,
  textKeys: ReadonlySet<string> | undefined,
  depth: number,
): { value: Params; problems: Array<{ problem: string; depth: number }> } {
  const known = new Map(fields.map((f) => [f.name, f]));
  const out: Params = {};
  const problems: Array<{ problem: string; depth: number }> = [];
  for (const [name, v] of Object.entries(value)) {
    out[name] = v;
    if (v === undefined || v === null) continue;
    const field = known.get(name);
    if (field === undefined) {
      problems.push({ problem: `unknown field "${fieldPath(prefix, name)}"`, depth });
      continue;
    }
    const path = fieldPath(prefix, name);
    const result = conformUnion(ref, v, field.types, path, textKeys?.has(name) ?? false, depth + 1);
    if (result.ok) out[name] = result.value;
    else problems.push(result);
  }
  for (const field of fields) {
    if (field.required && (value[field.name] === undefined || value[field.name] === null)) {
      problems.push({
        problem: `missing required field "${fieldPath(prefix, field.name)}"`,
        depth,
      });
    }
  }
  return { value: out, problems };
}

function conformUnion(
  ref: ApiReference,
  value: unknown,
  types: readonly string[],
  path: string,
  fromText: boolean,
  depth: number,
): Conformed {
  // Strings last, so that a textual "42" for "Integer or String" becomes the number it means.
  const ordered = [...types.filter((t) => t !== 'String'), ...types.filter((t) => t === 'String')];
  const failures: Array<Extract<Conformed, { ok: false }>> = [];
  for (const type of ordered) {
    const result = conformType(ref, value, type, path, fromText, depth);
    if (result.ok) return result;
    failures.push(result);
  }
  const deep = failures.filter((f) => !f.shallow);
  if (deep.length === 0) {
    return {
      ok: false,
      problem: `field "${path}" must be ${types.join(' or ')}, got ${kindOf(value)}`,
      depth,
      shallow: true,
    };
  }
  // The candidate that matched furthest down is the one the caller most likely meant.
  return deep.reduce((best, f) => (f.depth > best.depth ? f : best));
}

function conformType(
  ref: ApiReference,
  value: unknown,
  type: string,
  path: string,
  fromText: boolean,
  depth: number,
): Conformed {
  const mismatch: Conformed = {
    ok: false,
    problem: `field "${path}" must be ${type}, got ${kindOf(value)}`,
    depth,
    shallow: true,
  };
  const arrayOf = /^Array of (.+)$/.exec(type)?.[1];
  if (arrayOf !== undefined) {
    const list = fromText ? parseJsonText(value) : value;
    if (!Array.isArray(list)) return mismatch;
    const out: unknown[] = [];
    for (const [i, item] of (list as unknown[]).entries()) {
      const result = conformType(ref, item, arrayOf, `${path}[${i}]`, false, depth + 1);
      if (!result.ok) return { ...result, shallow: false };
      out.push(result.value);
    }
    return { ok: true, value: out };
  }
  switch (type) {
    case 'Integer':
      if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value };
      if (fromText && typeof value === 'string' && /^-?\d+$/.test(value)) {
        return { ok: true, value: Number(value) };
      }
      return mismatch;
    case 'Float':
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
      if (fromText && typeof value === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) {
        return { ok: true, value: Number(value) };
      }
      return mismatch;
    case 'Boolean':
      if (typeof value === 'boolean') return { ok: true, value };
      if (fromText && (value === 'true' || value === 'false')) {
        return { ok: true, value: value === 'true' };
      }
      return mismatch;
    case 'String':
      return typeof value === 'string' ? { ok: true, value } : mismatch;
    case 'InputFile':
      return value instanceof UploadedFile ? { ok: true, value } : mismatch;
  }
  const object = fromText ? parseJsonText(value) : value;
  if (!isPlainObject(object)) return mismatch;
  const definition = ref.types[type];
  if (definition?.subtypes !== undefined && definition.subtypes.length > 0) {
    const result = conformUnion(ref, object, definition.subtypes, path, false, depth);
    return result.ok ? result : { ...result, shallow: false };
  }
  if (definition?.fields === undefined) return { ok: true, value: object };
  const checked = conformFields(ref, definition.fields, object, path, undefined, depth);
  const [first] = checked.problems;
  if (first !== undefined) return { ok: false, ...first, shallow: false };
  return { ok: true, value: checked.value };
}

// ---------------------------------------------------------------------------------------------
// Telegram's HTML parse mode, after tdlib's parse_html (td/telegram/MessageEntity.cpp).

interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

const SIMPLE_ENTITIES: Record<string, MessageEntity.CommonMessageEntity['type']> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
};

function decodeEntityAt(html: string, at: number): { char: string; end: number } | undefined {
  const m = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([a-zA-Z]+));?/y;
  m.lastIndex = at;
  const match = m.exec(html);
  if (match === null) return undefined;
  const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
  let char: string | undefined;
  if (match[3] !== undefined) {
    char = named[match[3]];
  } else {
    const digits = match[1] ?? match[2] ?? '';
    const code = parseInt(digits, match[1] !== undefined ? 16 : 10);
    if (code > 0 && code < 0x10ffff && digits.length <= 7) char = String.fromCodePoint(code);
  }
  return char === undefined ? undefined : { char, end: m.lastIndex };
}

function fail(reason: string): never {
  throw new ApiFailure(400, `Bad Request: can't parse entities: ${reason}`);
}

function parseHtml(html: string): FormattedText {
  const byteOffset = (i: number): number => Buffer.byteLength(html.slice(0, i));
  const ch = (i: number): string => html[i] ?? '';
  const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
  let text = '';
  const entities: MessageEntity[] = [];
  const open: Array<{ tag: string; argument: string; offset: number }> = [];
  let i = 0;
  while (i < html.length) {
    const c = ch(i);
    if (c === '&') {
      const decoded = decodeEntityAt(html, i);
      // Telegram would keep a stray "&" literally; here it is an error, because it means the
      // bot forgot to escape text that could just as well have held "&lt;".
      if (decoded === undefined)
        fail(`bare "&" at byte offset ${byteOffset(i)}; escape it as &amp;`);
      text += decoded.char;
      i = decoded.end;
      continue;
    }
    if (c !== '<') {
      text += c;
      i++;
      continue;
    }
    const begin = i++;
    if (ch(i) !== '/') {
      while (i < html.length && !isSpace(ch(i)) && ch(i) !== '>') i++;
      if (i >= html.length) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      const tag = html.slice(begin + 1, i).toLowerCase();
      if (!HTML_TAGS.has(tag)) {
        fail(`Unsupported start tag "${tag}" at byte offset ${byteOffset(begin)}`);
      }
      let argument = '';
      while (ch(i) !== '>') {
        while (isSpace(ch(i))) i++;
        if (ch(i) === '>') break;
        const nameStart = i;
        while (i < html.length && !isSpace(ch(i)) && !'=>/"\''.includes(ch(i))) i++;
        const attribute = html.slice(nameStart, i);
        if (attribute === '') {
          fail(`Empty attribute name in the tag "${tag}" at byte offset ${byteOffset(begin)}`);
        }
        while (isSpace(ch(i))) i++;
        if (ch(i) !== '=') {
          if (i >= html.length)
            fail(`Unclosed start tag "${tag}" at byte offset ${byteOffset(begin)}`);
          if (tag === 'blockquote' && attribute === 'expandable') argument = 'expandable';
          continue;
        }
        i++;
        while (isSpace(ch(i))) i++;
        if (i >= html.length)
          fail(`Unclosed start tag "${tag}" at byte offset ${byteOffset(begin)}`);
        let value = '';
        const quote = ch(i);
        if (quote === '"' || quote === "'") {
          i++;
          while (i < html.length && ch(i) !== quote) {
            const decoded = ch(i) === '&' ? decodeEntityAt(html, i) : undefined;
            value += decoded?.char ?? ch(i);
            i = decoded?.end ?? i + 1;
          }
          if (ch(i) === quote) i++;
        } else {
          const tokenStart = i;
          while (/[A-Za-z0-9.-]/.test(ch(i))) i++;
          value = html.slice(tokenStart, i).toLowerCase();
          if (!isSpace(ch(i)) && ch(i) !== '>') {
            fail(`Unexpected end of name token at byte offset ${byteOffset(tokenStart)}`);
          }
        }
        if (i >= html.length) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
        if (tag === 'a' && attribute === 'href') argument = value;
        if (tag === 'code' && attribute === 'class' && value.startsWith('language-')) {
          argument = value.slice('language-'.length);
        }
        if (tag === 'span' && attribute === 'class' && value.startsWith('tg-')) {
          argument = value.slice('tg-'.length);
        }
        if (tag === 'blockquote' && attribute === 'expandable') argument = 'expandable';
      }
      if (tag === 'span' && argument !== 'spoiler') {
        fail(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`);
      }
      open.push({ tag, argument, offset: text.length });
      i++;
      continue;
    }
    const top = open.pop();
    if (top === undefined) fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`);
    i++;
    const nameStart = i;
    while (i < html.length && !isSpace(ch(i)) && ch(i) !== '>') i++;
    const endTag = html.slice(nameStart, i).toLowerCase();
    while (isSpace(ch(i))) i++;
    if (ch(i) !== '>') fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`);
    i++;
    if (endTag !== '' && endTag !== top.tag) {
      fail(
        `Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${top.tag}>", found "</${endTag}>"`,
      );
    }
    const length = text.length - top.offset;
    if (length > 0) entities.push(entityFor(top, length, entities, text));
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) {
    fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

/** A `<code class="language-x">`'s language: Telegram keeps it only when a `<pre>` folds it in. */
const CODE_LANGUAGE = new WeakMap<MessageEntity, string>();

function entityFor(
  open: { tag: string; argument: string; offset: number },
  length: number,
  earlier: MessageEntity[],
  text: string,
): MessageEntity {
  const { tag, argument, offset } = open;
  const simple = SIMPLE_ENTITIES[tag];
  if (simple !== undefined) return { type: simple, offset, length };
  if (tag === 'a')
    return { type: 'text_link', offset, length, url: argument || text.slice(offset) };
  if (tag === 'blockquote') {
    return { type: argument === '' ? 'blockquote' : 'expandable_blockquote', offset, length };
  }
  if (tag === 'code') {
    const code: MessageEntity = { type: 'code', offset, length };
    if (argument !== '') CODE_LANGUAGE.set(code, argument);
    return code;
  }
  // `<pre><code class="language-x">` closes the code first; Telegram folds the pair into one pre.
  const inner = earlier.at(-1);
  if (inner?.type === 'code' && inner.offset === offset && inner.length === length) {
    earlier.pop();
    const language = CODE_LANGUAGE.get(inner);
    return language === undefined
      ? { type: 'pre', offset, length }
      : { type: 'pre', offset, length, language };
  }
  return { type: 'pre', offset, length };
}

function formatText(raw: string, parseMode: string | undefined, entities: unknown): FormattedText {
  const mode = parseMode?.toLowerCase() ?? '';
  if (mode === 'html') return parseHtml(raw);
  if (mode === 'markdown' || mode === 'markdownv2') {
    // Not parsed: lengths are counted on the raw text, which only over-counts.
    return { text: raw, entities: [] };
  }
  if (mode !== '') throw new ApiFailure(400, 'Bad Request: unsupported parse_mode');
  return { text: raw, entities: Array.isArray(entities) ? (entities as MessageEntity[]) : [] };
}

function checkLength(text: string, limit: number, tooLong: string, empty?: string): void {
  // Telegram trims surrounding whitespace and counts UTF-16 code units, as JS does.
  const length = text.trim().length;
  if (length === 0 && empty !== undefined) throw new ApiFailure(400, `Bad Request: ${empty}`);
  if (length > limit) throw new ApiFailure(400, `Bad Request: ${tooLong}`);
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** JSON with sorted keys, so that two markups built in a different key order compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function intParam(params: Params, key: string): number | undefined {
  const v = params[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

function stringParam(params: Params, key: string): string | undefined {
  const v = params[key];
  return typeof v === 'string' ? v : undefined;
}

function boolParam(params: Params, key: string): boolean | undefined {
  const v = params[key];
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

/** Without the reference nothing was decoded, so JSON text may still be text here. */
function objectParam(params: Params, key: string): Record<string, unknown> | undefined {
  const v = parseJsonText(params[key]);
  return isPlainObject(v) ? v : undefined;
}

function recordable(value: unknown): unknown {
  if (value instanceof UploadedFile) {
    return {
      filename: value.filename,
      size: value.content.length,
      content: value.content.toString('utf8'),
    };
  }
  if (Array.isArray(value)) return value.map(recordable);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, recordable(v)]));
  }
  return value;
}

function caption(text: string | undefined): { caption?: string } {
  return text === undefined ? {} : { caption: text };
}

/** Telegram nests a replied-to message one level deep, never its own reply. */
/** A message as `reply_to_message` carries it: without a reply of its own. */
type RepliedMessage = TelegramMessage & { reply_to_message: undefined };

function withoutReply(message: TelegramMessage): RepliedMessage {
  // Left out of the JSON the bot reads, as Telegram leaves it out.
  return { ...structuredClone(message), reply_to_message: undefined };
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: ApiErrorBody): void {
  send(res, error.error_code, { ok: false, ...error });
}

function meetOutage(res: ServerResponse, kind: OutageKind): void {
  if (kind === 'drop') {
    res.destroy();
    return;
  }
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(502, {
    'content-type': 'text/html',
    'content-length': Buffer.byteLength(BAD_GATEWAY_PAGE),
  });
  res.end(BAD_GATEWAY_PAGE);
}

// ---------------------------------------------------------------------------------------------
// The server.

interface StoredMessage {
  wire: TelegramMessage;
  fromBot: boolean;
  sent: Omit<ChatMessage, 'message_id' | 'edits' | 'document'>;
  document?: { file_name: string; content: Buffer };
  edits: number;
}

interface StoredFile {
  file_name: string;
  content: Buffer;
  file_unique_id?: string;
  /** Where `getFile` says it lives: `photos/file_3.jpg`. */
  file_path?: string;
  /** False when Telegram leaves the size out. */
  sized?: boolean;
}

interface TopicState {
  name: string;
  iconColor: number;
  closed: boolean;
}

interface ChatState {
  chat: TelegramChat;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  /** Present in forum supergroups: topics by message_thread_id. */
  topics?: Map<number, TopicState>;
  /** Whether the bot is an admin that may manage topics. */
  canManageTopics?: boolean;
}

interface PendingPoll {
  offset: number;
  limit: number;
  timer: NodeJS.Timeout;
  resolve: (updates: Update[]) => void;
  reject: (error: ApiFailure | OutageHit) => void;
}

export class FakeTelegram {
  readonly token: string;
  readonly apiRoot: string;
  readonly botUser: User = {
    id: 123456,
    is_bot: true,
    first_name: 'kugetsu',
    username: 'kugetsu_bot',
  };
  /** Every authorized request, in arrival order, including the ones answered with an error. */
  readonly requests: RecordedRequest[] = [];
  /** Every disagreement with the method reference; each one also failed its request with 400. */
  readonly violations: string[] = [];
  /** Requests an outage met instead of Telegram (method as in the URL), in arrival order. */
  readonly outageRequests: Array<{ method: string; at: number; kind: OutageKind }> = [];

  private readonly reference = loadReference();
  private readonly methodNames = new Map<string, string>();
  private readonly chats = new Map<number, ChatState>();
  private readonly queue: Update[] = [];
  private readonly faults = new Map<string, Array<{ error: ApiErrorBody; left: number }>>();
  private readonly openCallbackQueries = new Set<string>();
  private readonly files = new Map<string, StoredFile>();
  private readonly commands = new Map<string, unknown[]>();
  private allowedUpdates: Set<string> | undefined;
  private webhookUrl = '';
  private description = '';
  private nextUpdateId = 1;
  private nextCallbackId = 1;
  private nextFileId = 1;
  private poll: PendingPoll | undefined;
  private wakeScheduled = false;
  private closed = false;
  private down: OutageKind | undefined;
  private revoked = false;

  private constructor(
    private readonly server: Server,
    token: string,
  ) {
    this.token = token;
    const { port } = server.address() as AddressInfo;
    this.apiRoot = `http://127.0.0.1:${port}`;
    const names = Object.keys(this.reference.methods);
    // Telegram matches method names case-insensitively (`/getme` works).
    for (const name of names) this.methodNames.set(name.toLowerCase(), name);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res);
    });
  }

  /** Starts a server on 127.0.0.1 with an ephemeral port. */
  static async start(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new FakeTelegram(server, options.token ?? DEFAULT_TOKEN);
  }

  /** Ends any pending poll, drops every connection (grammY keeps them alive) and stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endPoll((poll) => poll.resolve([]));
    // Let the poll's answer reach its socket before the sockets are destroyed.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ------------------------------------------------------------------------- test-facing API

  /** Recorded requests of one method (case as in the reference, e.g. `sendMessage`). */
  calls(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  /** Forgets recorded requests and violations; chats, messages and queued updates stay. */
  reset(): void {
    this.requests.length = 0;
    this.violations.length = 0;
  }

  /**
   * Polls `check` every 20 ms until it returns something truthy, and returns that. A `check`
   * that throws counts as "not yet", so `expect(...)` can be used inside it.
   */
  async waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = check();
        if (value !== undefined && value !== null && value !== false) return value;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) break;
      await delay(20);
    }
    const recent = this.requests
      .slice(-10)
      .map((r) => r.method)
      .join(', ');
    const reason =
      lastError instanceof Error ? `; last check failed with: ${lastError.message}` : '';
    throw new Error(
      `FakeTelegram.waitFor timed out after ${timeoutMs} ms${reason}\n` +
        `  last requests: ${recent || '(none)'}\n` +
        `  violations: ${this.violations.length === 0 ? '(none)' : this.violations.join(' | ')}`,
    );
  }

  /** The next `times` calls of `method` answer with `error` instead of running. */
  failNext(method: string, error: ApiErrorBody, times = 1): void {
    const key = method.toLowerCase();
    const list = this.faults.get(key) ?? [];
    list.push({ error, left: times });
    this.faults.set(key, list);
  }

  /**
   * Until `restore()`, every request meets an outage in front of the Bot API, before it is
   * read — so nothing it asked for happens: `drop` resets the connection, `bad-gateway` answers
   * the 502 HTML page of Telegram's nginx front. A pending long poll meets it too.
   */
  outage(kind: OutageKind): void {
    this.down = kind;
    this.endPoll((poll) => poll.reject(new OutageHit(kind)));
  }

  restore(): void {
    this.down = undefined;
  }

  /** As after /revoke in @BotFather: every later call with the token answers 401 Unauthorized. */
  revokeToken(): void {
    this.revoked = true;
  }

  /** The bot's messages in a chat, oldest first, as they stand after edits and deletions. */
  messagesIn(chatId: number): ChatMessage[] {
    const state = this.chats.get(chatId);
    if (state === undefined) return [];
    return [...state.messages.values()]
      .filter((m) => m.fromBot)
      .map((m) => ({
        message_id: m.wire.message_id,
        ...structuredClone(m.sent),
        ...(m.document === undefined
          ? {}
          : {
              document: {
                file_name: m.document.file_name,
                content: m.document.content.toString('utf8'),
              },
            }),
        edits: m.edits,
      }));
  }

  /**
   * Makes `chatId` (a supergroup id, -100…) a forum: topics on, the bot an admin that may
   * manage them unless `canManageTopics` is false.
   */
  makeForum(chatId: number, options: { title?: string; canManageTopics?: boolean } = {}): void {
    if (chatId > -1e12) throw new Error(`FakeTelegram: ${chatId} is not a supergroup id`);
    const state = this.chatState(chatId);
    state.chat = { id: chatId, type: 'supergroup', title: options.title ?? 'Team', is_forum: true };
    state.topics ??= new Map();
    state.canManageTopics = options.canManageTopics ?? true;
  }

  /** The forum's topics, oldest first. */
  topics(chatId: number): TopicView[] {
    return [...(this.chats.get(chatId)?.topics ?? new Map<number, TopicState>()).entries()].map(
      ([threadId, t]) => ({ threadId, name: t.name, closed: t.closed }),
    );
  }

  /** The bot's messages in one forum topic (`thread`), oldest first. */
  messagesInTopic(chatId: number, thread: number): ChatMessage[] {
    return this.messagesIn(chatId).filter((m) => m.message_thread_id === thread);
  }

  /**
   * Queues a `message` update from a user. A leading `/command` (optionally
   * `/command@kugetsu_bot`) gets a `bot_command` entity, as Telegram's clients send it.
   */
  userSends(from: FakeUser, text: string, options: UserSendOptions = {}): Update {
    return this.userMessage(from, { text }, options);
  }

  /**
   * A photo, as Telegram delivers one: several sizes, the largest last, each its own file; the
   * caption (a `/command` in it gets its entity in `caption_entities`).
   */
  userSendsPhoto(from: FakeUser, content: Buffer, options: UserFileOptions = {}): Update {
    const thumbnail = this.userFile('photos', '.jpg', content.subarray(0, 320), options);
    const full = this.userFile('photos', '.jpg', content, options);
    const size = (file: typeof full, side: number): PhotoSize => ({
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      width: side,
      height: Math.round((side * 3) / 4),
      ...(file.file_size === undefined ? {} : { file_size: file.file_size }),
    });
    return this.userMessage(
      from,
      { photo: [size(thumbnail, 90), size(full, 1280)], ...caption(options.caption) },
      options,
    );
  }

  /** A document with the file name and MIME type the user's client sends. */
  userSendsDocument(from: FakeUser, content: Buffer, options: UserFileOptions = {}): Update {
    const name = options.fileName ?? 'file';
    const ext = /\.[A-Za-z0-9]{1,8}$/.exec(name)?.[0] ?? '';
    const file = this.userFile('documents', ext, content, options, name);
    const document: TelegramDocument = {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      file_name: name,
      file_size: file.file_size ?? 0,
      ...(options.mimeType === undefined ? {} : { mime_type: options.mimeType }),
    };
    if (file.file_size === undefined) delete (document as Partial<TelegramDocument>).file_size;
    return this.userMessage(from, { document, ...caption(options.caption) }, options);
  }

  /** A voice note (OGG/Opus from Telegram's clients). */
  userSendsVoice(from: FakeUser, content: Buffer, options: UserFileOptions = {}): Update {
    const file = this.userFile('voice', '.oga', content, options);
    const voice: Voice = {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      duration: options.duration ?? 3,
      mime_type: options.mimeType ?? 'audio/ogg',
      ...(file.file_size === undefined ? {} : { file_size: file.file_size }),
    };
    return this.userMessage(from, { voice, ...caption(options.caption) }, options);
  }

  private userFile(
    folder: string,
    ext: string,
    content: Buffer,
    options: UserFileOptions,
    name?: string,
  ): TelegramFile & { file_id: string; file_unique_id: string } {
    const n = this.nextFileId++;
    const fileId = `AgACAgIAAxkBAAIU${String(n).padStart(6, '0')}`;
    const unique = `AQAD${String(n).padStart(6, '0')}`;
    const path = `${folder}/file_${n}${ext}`;
    this.files.set(fileId, {
      file_name: name ?? posix.basename(path),
      content: Buffer.from(content),
      file_unique_id: unique,
      file_path: path,
      sized: options.omitSize !== true,
    });
    return {
      file_id: fileId,
      file_unique_id: unique,
      ...(options.omitSize === true ? {} : { file_size: content.length }),
    };
  }

  private userMessage(
    from: FakeUser,
    content: Pick<TelegramMessage, 'text' | 'caption' | 'photo' | 'document' | 'voice'>,
    options: UserSendOptions,
  ): Update {
    const user = this.userFrom(from);
    const state = this.chatState(options.chat?.id ?? from.id);
    if (state.topics !== undefined) {
      // A forum stays one: its chat object is the one makeForum set.
    } else if (options.chat !== undefined && options.chat.type !== 'private') {
      state.chat = {
        id: options.chat.id,
        type: options.chat.type,
        title: options.chat.title ?? 'Group',
      };
    } else {
      state.chat = {
        id: state.chat.id,
        type: 'private',
        first_name: user.first_name,
        ...(user.username === undefined ? {} : { username: user.username }),
      };
    }
    const message: TelegramMessage = {
      message_id: state.nextMessageId++,
      date: unixNow(),
      chat: { ...state.chat },
      from: user,
      ...content,
    };
    const text = content.text ?? content.caption ?? '';
    const command = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?/.exec(text);
    if (command !== null) {
      const entity: MessageEntity[] = [
        { type: 'bot_command', offset: 0, length: command[0].length },
      ];
      if (content.text !== undefined) message.entities = entity;
      else message.caption_entities = entity;
    }
    if (options.thread !== undefined) {
      const topic = state.topics?.get(options.thread);
      if (topic === undefined) throw new Error(`FakeTelegram: no topic ${options.thread}`);
      message.message_thread_id = options.thread;
      message.is_topic_message = true;
      // Telegram's quirk: a topic message that replies to nothing replies to the topic's first
      // (service) message.
      const opening = state.messages.get(options.thread);
      if (opening !== undefined) message.reply_to_message = withoutReply(opening.wire);
    }
    if (options.replyTo !== undefined) {
      message.reply_to_message = withoutReply(this.botMessage(state.chat.id, options.replyTo).wire);
    }
    state.messages.set(message.message_id, {
      wire: message,
      fromBot: false,
      sent: content.text !== undefined ? { text } : { caption: text },
      edits: 0,
    });
    return this.enqueue({ update_id: 0, message: structuredClone(message) });
  }

  /** Queues a `callback_query` update: the user pressed a button under a bot message. */
  userPresses(
    from: FakeUser,
    message: { chatId: number; messageId: number },
    data: string,
  ): Update {
    const target = this.botMessage(message.chatId, message.messageId);
    const id = String(this.nextCallbackId++);
    this.openCallbackQueries.add(id);
    return this.enqueue({
      update_id: 0,
      callback_query: {
        id,
        from: this.userFrom(from),
        message: structuredClone(target.wire),
        chat_instance: 'ci',
        data,
      },
    });
  }

  // ------------------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    let method = '';
    try {
      const url = new URL(req.url ?? '/', this.apiRoot);
      const download = /^\/file\/bot([^/]*)\/(.+)$/.exec(url.pathname);
      if (download !== null && (req.method === 'GET' || req.method === 'HEAD')) {
        this.serveFile(
          decodeURIComponent(download[1] ?? ''),
          decodeURIComponent(download[2] ?? ''),
          res,
          at,
        );
        return;
      }
      const route = /^\/bot([^/]*)\/([^/]*)$/.exec(url.pathname);
      if (this.down !== undefined) {
        this.outageRequests.push({ method: route?.[2] ?? '', at, kind: this.down });
        meetOutage(res, this.down);
        return;
      }
      if (route === null) {
        sendError(res, { error_code: 404, description: 'Not Found' });
        return;
      }
      if (this.revoked || decodeURIComponent(route[1] ?? '') !== this.token) {
        sendError(res, { error_code: 401, description: 'Unauthorized' });
        return;
      }
      const body = await readBody(req);
      const requested = decodeURIComponent(route[2] ?? '');
      const known = this.methodNames.get(requested.toLowerCase());
      method = known ?? requested;
      const fields = known === undefined ? undefined : this.reference.methods[known]?.fields;
      let parsed: ParsedBody;
      try {
        parsed = parseBody(
          req.headers['content-type'],
          body,
          url.searchParams,
          new Set((fields ?? []).map((f) => f.name)),
        );
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        this.requests.push({ method, params: {}, at });
        this.violations.push(`${method}: ${err.message}`);
        sendError(res, { error_code: 400, description: `Bad Request: ${err.message}` });
        return;
      }
      if (known === undefined) {
        this.requests.push({ method, params: recordable(parsed.params) as Params, at });
        this.violations.push(`${method}: unknown method`);
        sendError(res, { error_code: 404, description: 'Not Found: method not found' });
        return;
      }
      let params = parsed.params;
      const checked = conformFields(this.reference, fields ?? [], params, '', parsed.textKeys, 0);
      params = checked.value;
      const problems = checked.problems.map((p) => `${method}: ${p.problem}`);
      this.requests.push({ method, params: recordable(params) as Params, at });
      this.violations.push(...problems);
      const [firstProblem] = problems;
      if (firstProblem !== undefined) {
        sendError(res, { error_code: 400, description: `Bad Request: ${firstProblem}` });
        return;
      }
      const fault = this.takeFault(method);
      if (fault !== undefined) {
        sendError(res, fault);
        return;
      }
      const result = await this.dispatch(method, params, res);
      send(res, 200, { ok: true, result });
    } catch (err) {
      if (err instanceof OutageHit) {
        meetOutage(res, err.kind);
      } else if (err instanceof ApiFailure) {
        sendError(res, {
          error_code: err.code,
          description: err.description,
          ...(err.parameters === undefined ? {} : { parameters: err.parameters }),
        });
      } else if (!res.destroyed) {
        // A bug in this fake must fail the test, not look like a Telegram refusal.
        const message = err instanceof Error ? err.message : JSON.stringify(err);
        this.violations.push(`${method}: FakeTelegram internal error: ${message}`);
        sendError(res, { error_code: 500, description: `Internal Server Error: ${message}` });
      }
    }
  }

  private takeFault(method: string): ApiErrorBody | undefined {
    const list = this.faults.get(method.toLowerCase());
    const next = list?.[0];
    if (list === undefined || next === undefined) return undefined;
    next.left--;
    if (next.left <= 0) list.shift();
    return next.error;
  }

  private dispatch(method: string, p: Params, res: ServerResponse): unknown {
    switch (method) {
      case 'getMe':
        return this.botUser;
      case 'getUpdates':
        return this.getUpdates(p, res);
      case 'setWebhook':
        this.webhookUrl = stringParam(p, 'url') ?? '';
        this.endPoll((poll) =>
          poll.reject(new ApiFailure(409, 'Conflict: terminated by setWebhook request')),
        );
        return true;
      case 'deleteWebhook':
        this.webhookUrl = '';
        if (boolParam(p, 'drop_pending_updates') === true) this.queue.length = 0;
        return true;
      case 'getWebhookInfo':
        return {
          url: this.webhookUrl,
          has_custom_certificate: false,
          pending_update_count: this.queue.length,
        };
      case 'setMyCommands':
        return this.setMyCommands(p);
      case 'getMyCommands':
        return this.commands.get(this.commandsKey(p)) ?? [];
      case 'deleteMyCommands':
        this.commands.delete(this.commandsKey(p));
        return true;
      case 'setMyDescription':
        this.description = stringParam(p, 'description') ?? '';
        return true;
      case 'getMyDescription':
        return { description: this.description };
      case 'sendMessage':
        return this.sendMessage(p);
      case 'editMessageText':
        return this.editMessageText(p);
      case 'editMessageReplyMarkup':
        return this.editMessageReplyMarkup(p);
      case 'sendDocument':
        return this.sendDocument(p);
      case 'deleteMessage':
        return this.deleteMessage(p);
      case 'answerCallbackQuery':
        return this.answerCallbackQuery(p);
      case 'getFile':
        return this.getFile(p);
      case 'getChat':
        return this.getChat(p);
      case 'createForumTopic':
        return this.createForumTopic(p);
      case 'editForumTopic':
      case 'closeForumTopic':
      case 'reopenForumTopic':
      case 'deleteForumTopic':
        return this.changeForumTopic(method, p);
      default:
        return true;
    }
  }

  // ------------------------------------------------------------------------- updates

  private enqueue(update: Update): Update {
    update.update_id = this.nextUpdateId++;
    this.queue.push(update);
    // Deferred so that several updates queued in one tick reach the bot in one batch.
    if (this.poll !== undefined && !this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(() => {
        this.wakeScheduled = false;
        const poll = this.poll;
        if (poll === undefined) return;
        const ready = this.takeUpdates(poll.offset, poll.limit);
        if (ready.length > 0) this.endPoll((p) => p.resolve(ready));
      });
    }
    return structuredClone(update);
  }

  private takeUpdates(offset: number, limit: number): Update[] {
    // Telegram never queues update kinds the bot did not subscribe to.
    const allowed = (u: Update): boolean => {
      const kind = Object.keys(u).find((k) => k !== 'update_id') ?? '';
      return this.allowedUpdates === undefined
        ? !OPT_IN_UPDATES.has(kind)
        : this.allowedUpdates.has(kind);
    };
    const kept = this.queue.filter(allowed);
    this.queue.splice(0, this.queue.length, ...kept);
    return structuredClone(this.queue.filter((u) => u.update_id >= offset).slice(0, limit));
  }

  private getUpdates(p: Params, res: ServerResponse): Update[] | Promise<Update[]> {
    if (this.webhookUrl !== '') {
      throw new ApiFailure(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    const offset = intParam(p, 'offset') ?? 0;
    const limit = Math.min(Math.max(intParam(p, 'limit') ?? 100, 1), 100);
    const timeout = Math.max(intParam(p, 'timeout') ?? 0, 0);
    const allowed = p.allowed_updates;
    if (Array.isArray(allowed)) {
      const kinds = (allowed as unknown[]).filter((k): k is string => typeof k === 'string');
      this.allowedUpdates = kinds.length === 0 ? undefined : new Set(kinds);
    }
    // An offset confirms (forgets) every update below it; a negative one keeps the last -offset.
    if (offset > 0) {
      const kept = this.queue.filter((u) => u.update_id >= offset);
      this.queue.splice(0, this.queue.length, ...kept);
    } else if (offset < 0) {
      this.queue.splice(0, Math.max(this.queue.length + offset, 0));
    }
    const ready = this.takeUpdates(offset, limit);
    const holdSeconds = Math.min(timeout, MAX_POLL_HOLD_SECONDS);
    if (ready.length > 0 || holdSeconds === 0 || this.closed) return ready;
    // Telegram's own server (tdlib/telegram-bot-api, abort_long_poll) answers the poll being
    // replaced with 409 and keeps the newcomer: the stale poller is the one told to go away.
    this.endPoll((poll) => poll.reject(new ApiFailure(409, POLL_CONFLICT)));
    return new Promise<Update[]>((resolve, reject) => {
      const poll: PendingPoll = {
        offset,
        limit,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.poll === poll) this.endPoll((p) => p.resolve([]));
        }, holdSeconds * 1000),
      };
      this.poll = poll;
      // grammY aborts its pending poll on bot.stop(); the next poll must not count as a rival.
      res.on('close', () => {
        if (this.poll === poll) this.endPoll((p) => p.resolve([]));
      });
    });
  }

  private endPoll(finish: (poll: PendingPoll) => void): void {
    const poll = this.poll;
    if (poll === undefined) return;
    this.poll = undefined;
    clearTimeout(poll.timer);
    finish(poll);
  }

  // ------------------------------------------------------------------------- chats & messages

  private userFrom(from: FakeUser): User {
    return {
      id: from.id,
      is_bot: false,
      first_name: from.first_name ?? 'User',
      ...(from.username === undefined ? {} : { username: from.username }),
    };
  }

  private chatState(chatId: number): ChatState {
    let state = this.chats.get(chatId);
    if (state === undefined) {
      // Telegram ids say the chat kind: users are positive, supergroups -100…, groups negative.
      const chat: TelegramChat =
        chatId > 0
          ? { id: chatId, type: 'private', first_name: 'User' }
          : { id: chatId, type: chatId <= -1e12 ? 'supergroup' : 'group', title: 'Group' };
      state = { chat, nextMessageId: FIRST_MESSAGE_ID, messages: new Map() };
      this.chats.set(chatId, state);
    }
    return state;
  }

  private botMessage(chatId: number, messageId: number): StoredMessage {
    const stored = this.chats.get(chatId)?.messages.get(messageId);
    if (stored === undefined || !stored.fromBot) {
      throw new Error(`FakeTelegram: the bot has no message ${messageId} in chat ${chatId}`);
    }
    return stored;
  }

  private targetChat(p: Params): ChatState {
    const raw = p.chat_id;
    if (raw === undefined || raw === null || raw === '') {
      throw new ApiFailure(400, 'Bad Request: chat_id is empty');
    }
    const id = intParam(p, 'chat_id');
    if (id === undefined) throw new ApiFailure(400, 'Bad Request: chat not found');
    return this.chatState(id);
  }

  private checkMarkup(markup: Record<string, unknown> | undefined): SentMarkup | undefined {
    const rows = markup?.inline_keyboard;
    if (!Array.isArray(rows)) return markup;
    for (const row of rows as unknown[]) {
      for (const button of Array.isArray(row) ? (row as unknown[]) : []) {
        if (!isPlainObject(button)) continue;
        if ('callback_data' in button) {
          const data = button.callback_data;
          const bytes = typeof data === 'string' ? Buffer.byteLength(data) : 0;
          if (bytes < 1 || bytes > CALLBACK_DATA_MAX_BYTES) {
            throw new ApiFailure(400, 'Bad Request: BUTTON_DATA_INVALID');
          }
        }
        if (!BUTTON_ACTIONS.some((action) => action in button)) {
          throw new ApiFailure(
            400,
            'Bad Request: text buttons are unallowed in the inline keyboard',
          );
        }
      }
    }
    return markup;
  }

  /** Only inline keyboards travel with a Message; an empty one is no keyboard at all. */
  private wireMarkup(markup: SentMarkup | undefined): InlineKeyboardMarkup | undefined {
    const rows = markup?.inline_keyboard;
    if (rows === undefined || rows.every((row) => row.length === 0)) return undefined;
    // checkMarkup let only real inline buttons through.
    return { inline_keyboard: structuredClone(rows) as InlineKeyboardButton[][] };
  }

  private replyTarget(state: ChatState, p: Params): RepliedMessage | undefined {
    const reply = objectParam(p, 'reply_parameters');
    const messageId = reply === undefined ? undefined : intParam(reply, 'message_id');
    if (reply === undefined || messageId === undefined) return undefined;
    const otherChat = intParam(reply, 'chat_id');
    const source = otherChat === undefined ? state : this.chats.get(otherChat);
    const target = source?.messages.get(messageId);
    if (target === undefined) {
      if (boolParam(reply, 'allow_sending_without_reply') === true) return undefined;
      throw new ApiFailure(400, 'Bad Request: message to be replied not found');
    }
    return withoutReply(target.wire);
  }

  private storeBotMessage(
    state: ChatState,
    p: Params,
    content: Partial<TelegramMessage>,
    sent: StoredMessage['sent'],
    document?: StoredMessage['document'],
  ): TelegramMessage {
    const thread = this.targetThread(state, p);
    const replyTo =
      this.replyTarget(state, p) ??
      (thread === undefined ? undefined : this.topicOpening(state, thread));
    const markup = this.wireMarkup(sent.reply_markup);
    const wire: TelegramMessage = {
      message_id: state.nextMessageId++,
      from: this.botUser,
      chat: { ...state.chat },
      date: unixNow(),
      ...content,
      ...(thread === undefined ? {} : { message_thread_id: thread, is_topic_message: true }),
      ...(markup === undefined ? {} : { reply_markup: markup }),
      ...(replyTo === undefined ? {} : { reply_to_message: replyTo }),
    };
    const disableNotification = boolParam(p, 'disable_notification');
    state.messages.set(wire.message_id, {
      wire,
      fromBot: true,
      sent: {
        ...sent,
        ...(disableNotification === undefined ? {} : { disable_notification: disableNotification }),
        ...(replyTo === undefined || thread !== undefined
          ? {}
          : { reply_to_message_id: replyTo.message_id }),
        ...(thread === undefined ? {} : { message_thread_id: thread }),
      },
      ...(document === undefined ? {} : { document }),
      edits: 0,
    });
    return structuredClone(wire);
  }

  private sendMessage(p: Params): TelegramMessage {
    const state = this.targetChat(p);
    const raw = stringParam(p, 'text') ?? '';
    const parseMode = stringParam(p, 'parse_mode');
    const formatted = formatText(raw, parseMode, p.entities);
    checkLength(formatted.text, TEXT_LIMIT, 'message is too long', 'message text is empty');
    const markup = this.checkMarkup(objectParam(p, 'reply_markup'));
    return this.storeBotMessage(
      state,
      p,
      {
        text: formatted.text,
        ...(formatted.entities.length === 0 ? {} : { entities: formatted.entities }),
      },
      {
        text: raw,
        ...(parseMode === undefined ? {} : { parse_mode: parseMode }),
        ...(markup === undefined ? {} : { reply_markup: markup }),
      },
    );
  }

  private sendDocument(p: Params): TelegramMessage {
    const state = this.targetChat(p);
    const document = this.resolveDocument(p.document);
    const caption = stringParam(p, 'caption');
    const parseMode = stringParam(p, 'parse_mode');
    const formatted =
      caption === undefined ? undefined : formatText(caption, parseMode, p.caption_entities);
    if (formatted !== undefined) {
      checkLength(formatted.text, CAPTION_LIMIT, 'message caption is too long');
    }
    const markup = this.checkMarkup(objectParam(p, 'reply_markup'));
    return this.storeBotMessage(
      state,
      p,
      {
        document: document.wire,
        ...(formatted === undefined ? {} : { caption: formatted.text }),
        ...(formatted === undefined || formatted.entities.length === 0
          ? {}
          : { caption_entities: formatted.entities }),
      },
      {
        ...(caption === undefined ? {} : { caption }),
        ...(parseMode === undefined ? {} : { parse_mode: parseMode }),
        ...(markup === undefined ? {} : { reply_markup: markup }),
      },
      { file_name: document.wire.file_name, content: document.content },
    );
  }

  private resolveDocument(value: unknown): { wire: TelegramDocument; content: Buffer } {
    let file: { file_name: string; content: Buffer } | undefined;
    if (value instanceof UploadedFile) {
      if (value.content.length === 0)
        throw new ApiFailure(400, 'Bad Request: file must be non-empty');
      file = { file_name: value.filename, content: value.content };
    } else if (typeof value === 'string') {
      file = this.files.get(value);
      if (file === undefined && /^https?:\/\//.test(value)) {
        file = {
          file_name: posix.basename(new URL(value).pathname) || 'file',
          content: Buffer.alloc(0),
        };
      }
    }
    if (file === undefined) {
      throw new ApiFailure(400, 'Bad Request: wrong file identifier/HTTP URL specified');
    }
    const n = this.nextFileId++;
    const fileId = `BQACAgIAAxkBAAIF${String(n).padStart(6, '0')}`;
    this.files.set(fileId, file);
    return {
      wire: {
        file_id: fileId,
        file_unique_id: `AgAD${String(n).padStart(6, '0')}`,
        file_name: file.file_name,
        file_size: file.content.length,
      },
      content: file.content,
    };
  }

  private editTarget(p: Params): StoredMessage {
    const state = this.targetChat(p);
    const messageId = intParam(p, 'message_id');
    if (messageId === undefined) {
      throw new ApiFailure(400, 'Bad Request: message identifier is not specified');
    }
    const stored = state.messages.get(messageId);
    if (stored === undefined) throw new ApiFailure(400, 'Bad Request: message to edit not found');
    if (!stored.fromBot) throw new ApiFailure(400, "Bad Request: message can't be edited");
    return stored;
  }

  /** `sent` is the whole new test-facing view; nothing changes if Telegram would refuse. */
  private applyEdit(
    stored: StoredMessage,
    wire: Partial<TelegramMessage>,
    sent: StoredMessage['sent'],
  ): TelegramMessage {
    const next: TelegramMessage = { ...stored.wire, ...wire };
    delete next.reply_markup;
    const markup = this.wireMarkup(sent.reply_markup);
    if (markup !== undefined) next.reply_markup = markup;
    if (next.entities?.length === 0) delete next.entities;
    const current = stored.wire;
    if (
      canonicalJson([current.text, current.entities, current.reply_markup]) ===
      canonicalJson([next.text, next.entities, next.reply_markup])
    ) {
      throw new ApiFailure(400, NOT_MODIFIED);
    }
    next.edit_date = unixNow();
    stored.wire = next;
    stored.sent = sent;
    stored.edits++;
    return structuredClone(next);
  }

  private editMessageText(p: Params): TelegramMessage | true {
    if (p.inline_message_id !== undefined) return true;
    const stored = this.editTarget(p);
    if (stored.wire.text === undefined) {
      throw new ApiFailure(400, 'Bad Request: there is no text in the message to edit');
    }
    const raw = stringParam(p, 'text');
    if (raw === undefined) throw new ApiFailure(400, 'Bad Request: message text is empty');
    const parseMode = stringParam(p, 'parse_mode');
    const formatted = formatText(raw, parseMode, p.entities);
    checkLength(formatted.text, TEXT_LIMIT, 'message is too long', 'message text is empty');
    // Leaving reply_markup out of an edit removes the keyboard, as on Telegram.
    const markup = this.checkMarkup(objectParam(p, 'reply_markup'));
    const sent: StoredMessage['sent'] = { ...stored.sent, text: raw };
    delete sent.parse_mode;
    delete sent.reply_markup;
    if (parseMode !== undefined) sent.parse_mode = parseMode;
    if (markup !== undefined) sent.reply_markup = markup;
    return this.applyEdit(stored, { text: formatted.text, entities: formatted.entities }, sent);
  }

  private editMessageReplyMarkup(p: Params): TelegramMessage | true {
    if (p.inline_message_id !== undefined) return true;
    const stored = this.editTarget(p);
    const markup = this.checkMarkup(objectParam(p, 'reply_markup'));
    const sent: StoredMessage['sent'] = { ...stored.sent };
    delete sent.reply_markup;
    if (markup !== undefined) sent.reply_markup = markup;
    return this.applyEdit(stored, {}, sent);
  }

  private deleteMessage(p: Params): true {
    const state = this.targetChat(p);
    const messageId = intParam(p, 'message_id');
    if (messageId === undefined || !state.messages.delete(messageId)) {
      throw new ApiFailure(400, 'Bad Request: message to delete not found');
    }
    return true;
  }

  /**
   * `message_thread_id` of a send: a topic of a forum, which must exist and be open. Outside
   * forums Telegram knows no such thread either.
   */
  private targetThread(state: ChatState, p: Params): number | undefined {
    const thread = intParam(p, 'message_thread_id');
    if (thread === undefined) return undefined;
    const topic = state.topics?.get(thread);
    if (topic === undefined) throw new ApiFailure(400, THREAD_NOT_FOUND);
    if (topic.closed) throw new ApiFailure(400, 'Bad Request: TOPIC_CLOSED');
    return thread;
  }

  private topicOpening(state: ChatState, thread: number): RepliedMessage | undefined {
    const opening = state.messages.get(thread);
    return opening === undefined ? undefined : withoutReply(opening.wire);
  }

  private getChat(p: Params): Record<string, unknown> {
    const state = this.targetChat(p);
    return {
      ...state.chat,
      accent_color_id: 0,
      max_reaction_count: 11,
      accepted_gift_types: {
        unlimited_gifts: false,
        limited_gifts: false,
        unique_gifts: false,
        premium_subscription: false,
        gifts_from_channels: false,
      },
    };
  }

  private forumOf(p: Params): ChatState & { topics: Map<number, TopicState> } {
    const state = this.targetChat(p);
    if (state.topics === undefined)
      throw new ApiFailure(400, 'Bad Request: the chat is not a forum');
    if (state.canManageTopics !== true) {
      throw new ApiFailure(400, 'Bad Request: not enough rights to manage topics');
    }
    return state as ChatState & { topics: Map<number, TopicState> };
  }

  /** Telegram posts a service message in the chat for each change of a topic. */
  private serviceMessage(
    state: ChatState,
    thread: number,
    content: Partial<TelegramMessage>,
  ): number {
    const id = state.nextMessageId++;
    const wire: TelegramMessage = {
      message_id: id,
      from: this.botUser,
      chat: { ...state.chat },
      date: unixNow(),
      message_thread_id: thread === 0 ? id : thread,
      is_topic_message: true,
      ...content,
    };
    state.messages.set(id, { wire, fromBot: false, sent: {}, edits: 0 });
    return id;
  }

  private createForumTopic(p: Params): ForumTopic {
    const state = this.forumOf(p);
    // tdlib trims the name and cuts it to 128 characters; an empty one is refused.
    const name = [...(stringParam(p, 'name') ?? '').trim()].slice(0, TOPIC_NAME_LIMIT).join('');
    if (name === '') throw new ApiFailure(400, 'Bad Request: TOPIC_TITLE_EMPTY');
    const color = intParam(p, 'icon_color') ?? TOPIC_COLORS[0] ?? 0;
    if (!TOPIC_COLORS.includes(color))
      throw new ApiFailure(400, 'Bad Request: TOPIC_ICON_COLOR_INVALID');
    const thread = this.serviceMessage(state, 0, {
      forum_topic_created: { name, icon_color: color },
    });
    state.topics.set(thread, { name, iconColor: color, closed: false });
    return { message_thread_id: thread, name, icon_color: color };
  }

  private changeForumTopic(method: string, p: Params): true {
    const state = this.forumOf(p);
    const thread = intParam(p, 'message_thread_id') ?? 0;
    const topic = state.topics.get(thread);
    if (topic === undefined) throw new ApiFailure(400, THREAD_NOT_FOUND);
    const unchanged = (): never => {
      throw new ApiFailure(400, 'Bad Request: TOPIC_NOT_MODIFIED');
    };
    switch (method) {
      case 'closeForumTopic':
        if (topic.closed) unchanged();
        topic.closed = true;
        this.serviceMessage(state, thread, { forum_topic_closed: {} });
        break;
      case 'reopenForumTopic':
        if (!topic.closed) unchanged();
        topic.closed = false;
        this.serviceMessage(state, thread, { forum_topic_reopened: {} });
        break;
      case 'editForumTopic': {
        const name = stringParam(p, 'name');
        const cut =
          name === undefined ? undefined : [...name.trim()].slice(0, TOPIC_NAME_LIMIT).join('');
        if (cut === undefined || cut === topic.name) unchanged();
        topic.name = cut ?? topic.name;
        this.serviceMessage(state, thread, { forum_topic_edited: { name: topic.name } });
        break;
      }
      case 'deleteForumTopic':
        state.topics.delete(thread);
        for (const [id, message] of state.messages) {
          if (message.wire.message_thread_id === thread) state.messages.delete(id);
        }
        break;
    }
    return true;
  }

  private getFile(p: Params): TelegramFile {
    const id = stringParam(p, 'file_id') ?? '';
    const file = this.files.get(id);
    if (file === undefined) throw new ApiFailure(400, 'Bad Request: invalid file_id');
    if (file.content.length > GET_FILE_LIMIT)
      throw new ApiFailure(400, 'Bad Request: file is too big');
    if (file.file_path === undefined) {
      const n = this.nextFileId++;
      file.file_path = `documents/file_${n}${/\.[A-Za-z0-9]{1,8}$/.exec(file.file_name)?.[0] ?? ''}`;
      file.file_unique_id ??= `AgAD${String(n).padStart(6, '0')}`;
    }
    return {
      file_id: id,
      file_unique_id: file.file_unique_id ?? id,
      ...(file.sized === false ? {} : { file_size: file.content.length }),
      file_path: file.file_path,
    };
  }

  /**
   * `GET /file/bot<token>/<file_path>`: the download URL of a file `getFile` described. The
   * token is in the URL, so the recorded request keeps only the path.
   */
  private serveFile(token: string, path: string, res: ServerResponse, at: number): void {
    this.requests.push({ method: 'downloadFile', params: { file_path: path }, at });
    const file = [...this.files.values()].find((f) => f.file_path === path);
    if (token !== this.token || file === undefined) {
      sendError(res, { error_code: 404, description: 'Not Found' });
      return;
    }
    // A file whose size Telegram left out is sent chunked (no Content-Length), as a proxy may.
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      ...(file.sized === false ? {} : { 'content-length': file.content.length }),
    });
    if (file.sized === false) {
      const half = Math.floor(file.content.length / 2);
      res.write(file.content.subarray(0, half));
      res.end(file.content.subarray(half));
    } else res.end(file.content);
  }

  private answerCallbackQuery(p: Params): true {
    const id = stringParam(p, 'callback_query_id') ?? '';
    // A query can be answered once; a second answer is what Telegram calls "too old".
    if (!this.openCallbackQueries.delete(id)) {
      throw new ApiFailure(
        400,
        'Bad Request: query is too old and response timeout expired or query ID is invalid',
      );
    }
    return true;
  }

  private commandsKey(p: Params): string {
    return canonicalJson([
      objectParam(p, 'scope') ?? { type: 'default' },
      stringParam(p, 'language_code') ?? '',
    ]);
  }

  private setMyCommands(p: Params): true {
    const commands = parseJsonText(p.commands);
    const list = Array.isArray(commands) ? (commands as unknown[]) : [];
    for (const entry of list) {
      const command = isPlainObject(entry) ? entry.command : undefined;
      if (typeof command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(command)) {
        throw new ApiFailure(400, 'Bad Request: BOT_COMMAND_INVALID');
      }
    }
    this.commands.set(this.commandsKey(p), structuredClone(list));
    return true;
  }
}
