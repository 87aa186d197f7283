/** What kind of message an update carries, as the chat features route them. Pure. */

interface Entity {
  type: string;
  offset: number;
  length: number;
}

/** A `/command` at the start of the text or caption. */
export function isCommand(message: {
  text?: string;
  caption?: string;
  entities?: Entity[];
  caption_entities?: Entity[];
}): boolean {
  const entities = message.entities ?? message.caption_entities ?? [];
  return entities.some((e) => e.type === 'bot_command' && e.offset === 0);
}

/**
 * Whether the user replied to a message on purpose. Telegram makes every message in a forum
 * topic a reply to the topic's first (service) message; that one is not a reply anyone chose.
 */
export function isRealReply(message: {
  reply_to_message?: { message_id: number };
  is_topic_message?: boolean;
  message_thread_id?: number;
}): boolean {
  const replied = message.reply_to_message;
  if (replied === undefined) return false;
  return !(message.is_topic_message === true && replied.message_id === message.message_thread_id);
}
