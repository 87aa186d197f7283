/**
 * If Telegram refuses a message's HTML ("can't parse entities"), the same call is retried once
 * as plain text: the user still gets the message, only without formatting.
 */
import type { Transformer } from 'grammy';

const TEXT_FIELDS = ['text', 'caption'] as const;

export function htmlToPlain(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

// Transformers see Telegram's answer before grammY turns `ok: false` into an error.
export const plainTextFallback: Transformer = async (prev, method, payload, signal) => {
  const result = await prev(method, payload, signal);
  const fields = payload as Record<string, unknown>;
  const entityError =
    !result.ok && result.error_code === 400 && result.description.includes("can't parse entities");
  if (!entityError || fields['parse_mode'] !== 'HTML') return result;
  const plain: Record<string, unknown> = { ...fields };
  delete plain['parse_mode'];
  for (const field of TEXT_FIELDS) {
    const value = plain[field];
    if (typeof value === 'string') plain[field] = htmlToPlain(value);
  }
  return prev(method, plain as typeof payload, signal);
};
