/**
 * The chat features beyond the commands, as one middleware for `createBot`. Order matters:
 * these run after the commands and before the generic button and reply handlers, so their own
 * buttons and messages are theirs and everything else falls through.
 */
import { Composer, type Context } from 'grammy';
import type { FeatureDeps } from './guard.js';
import { attachmentsFeature } from './attachments.js';
import { mergeFeature } from './merge-feature.js';
import { requestFeature } from './request-feature.js';
import { topicsFeature } from './topics.js';
import { voiceFeature } from './voice.js';

export function chatFeatures<C extends Context>(deps: FeatureDeps): Composer<C> {
  const composer = new Composer<C>();
  composer.use(mergeFeature<C>(deps));
  // First of the message handlers: whatever is written in a session's topic continues it.
  composer.use(topicsFeature<C>(deps));
  composer.use(attachmentsFeature<C>(deps));
  composer.use(voiceFeature<C>(deps));
  // Last: plain text nobody else claimed.
  composer.use(requestFeature<C>(deps));
  return composer;
}
