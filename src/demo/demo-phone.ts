/**
 * The demo's phone: a Bot API server on loopback that answers the calls kugetsu's bot makes
 * (through grammY's real client, pointed here with TELEGRAM_API_ROOT), and lets the demo type
 * messages and tap buttons as a user would. Only what the bot uses is served; anything else is
 * Telegram's own "method not found".
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PhoneUser {
  id: number;
  first_name: string;
}

export interface PhoneButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export interface PhoneMessage {
  id: number;
  fromBot: boolean;
  text: string;
  buttons: PhoneButton[][];
  silent: boolean;
}

type Listener = (message: PhoneMessage, change: 'new' | 'edit') => void;

const notModified = Symbol('not modified');

/** Long polls are held at most this long, whatever timeout the bot asks for. */
const MAX_POLL_MS = 1_000;

export class DemoPhone {
  readonly token = `${100000 + Math.floor(Math.random() * 800000)}:demo-${randomBytes(12).toString('hex')}`;
  apiRoot = '';
  private readonly messages = new Map<number, PhoneMessage>();
  private readonly updates: Record<string, unknown>[] = [];
  private readonly waiting = new Set<() => void>();
  private readonly listeners: Listener[] = [];
  private nextUpdate = 1;
  private nextMessage = 1;
  private nextCallback = 1;

  private constructor(
    private readonly server: Server,
    readonly user: PhoneUser,
  ) {}

  static async start(user: PhoneUser): Promise<DemoPhone> {
    const server = createServer();
    const phone = new DemoPhone(server, user);
    server.on('request', (req, res) => void phone.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    phone.apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return phone;
  }

  onMessage(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** The user writes in the chat, optionally replying to one of the bot's messages. */
  send(text: string, replyTo?: number): PhoneMessage {
    const message: PhoneMessage = {
      id: this.nextMessage++,
      fromBot: false,
      text,
      buttons: [],
      silent: false,
    };
    this.messages.set(message.id, message);
    const command = /^\/[a-z]+/.exec(text);
    this.push({
      message: {
        ...this.wire(message, this.user),
        ...(command === null
          ? {}
          : { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }),
        ...(replyTo === undefined
          ? {}
          : { reply_to_message: this.wire(this.mustGet(replyTo), this.me) }),
      },
    });
    return message;
  }

  /** The user taps a button under one of the bot's messages. */
  tap(messageId: number, data: string): void {
    this.push({
      callback_query: {
        id: String(this.nextCallback++),
        from: this.user,
        message: this.wire(this.mustGet(messageId), this.me),
        chat_instance: 'demo',
        data,
      },
    });
  }

  async close(): Promise<void> {
    for (const wake of this.waiting) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private readonly me = {
    id: 1,
    is_bot: true,
    first_name: 'kugetsu',
    username: 'kugetsu_demo_bot',
  };

  private mustGet(id: number): PhoneMessage {
    const message = this.messages.get(id);
    if (message === undefined) throw new Error(`no message ${id} in the demo chat`);
    return message;
  }

  private wire(message: PhoneMessage, from: object): Record<string, unknown> {
    return {
      message_id: message.id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: this.user.id, type: 'private', first_name: this.user.first_name },
      from,
      text: message.text,
      ...(message.buttons.length === 0
        ? {}
        : { reply_markup: { inline_keyboard: message.buttons } }),
    };
  }

  private push(update: Record<string, unknown>): void {
    this.updates.push({ update_id: this.nextUpdate++, ...update });
    for (const wake of this.waiting) wake();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const [, token, method] = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? '') ?? [];
    const answer = (status: number, body: object): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (token !== this.token)
      return answer(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    let params: Record<string, unknown> = {};
    try {
      if (chunks.length > 0)
        params = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return answer(400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
    }
    const result = await this.call(method ?? '', params);
    if (result === notModified)
      return answer(400, {
        ok: false,
        error_code: 400,
        description:
          'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      });
    if (result === undefined)
      return answer(404, {
        ok: false,
        error_code: 404,
        description: 'Not Found: method not found',
      });
    answer(200, { ok: true, result });
  }

  private async call(method: string, p: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'getMe':
        return this.me;
      case 'deleteWebhook':
      case 'setMyCommands':
      case 'setMyDescription':
      case 'setMyShortDescription':
      case 'setChatMenuButton':
      case 'answerCallbackQuery':
      case 'sendChatAction':
        return true;
      case 'getUpdates':
        return this.getUpdates(Number(p['offset'] ?? 0), Number(p['timeout'] ?? 0) * 1000);
      case 'sendMessage': {
        const message: PhoneMessage = {
          id: this.nextMessage++,
          fromBot: true,
          text: textOf(p['text']),
          buttons: buttonsOf(p['reply_markup']),
          silent: p['disable_notification'] === true,
        };
        this.messages.set(message.id, message);
        for (const listener of this.listeners) listener(message, 'new');
        return this.wire(message, this.me);
      }
      case 'editMessageText':
      case 'editMessageReplyMarkup': {
        const message = this.messages.get(Number(p['message_id']));
        if (message === undefined) return undefined;
        const text = method === 'editMessageText' ? textOf(p['text']) : message.text;
        const buttons = buttonsOf(p['reply_markup']);
        // As Telegram does: an edit that changes nothing is refused, and the bot knows to ignore it.
        if (text === message.text && JSON.stringify(buttons) === JSON.stringify(message.buttons))
          return notModified;
        message.text = text;
        message.buttons = buttons;
        for (const listener of this.listeners) listener(message, 'edit');
        return this.wire(message, this.me);
      }
      default:
        return undefined;
    }
  }

  private async getUpdates(offset: number, timeoutMs: number): Promise<unknown[]> {
    const due = Date.now() + Math.min(timeoutMs, MAX_POLL_MS);
    for (;;) {
      while (this.updates.length > 0 && Number(this.updates[0]?.['update_id']) < offset)
        this.updates.shift();
      if (this.updates.length > 0 || Date.now() >= due) return [...this.updates];
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiting.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, due - Date.now()));
        this.waiting.add(wake);
      });
    }
  }
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function buttonsOf(markup: unknown): PhoneButton[][] {
  const rows = (markup as { inline_keyboard?: PhoneButton[][] } | undefined)?.inline_keyboard;
  return Array.isArray(rows) ? rows : [];
}

/** A bot message as the phone shows it: text without markup, buttons in brackets. */
export function phoneView(message: PhoneMessage): string {
  const text = message.text
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
  const buttons = message.buttons.map((row) => row.map((b) => `[${b.text}]`).join(' ')).join('  ');
  return buttons === '' ? text : `${text}\n${buttons}`;
}
