/** What a setting declares: its variable, its field of `Config`, its type, default and doc. */
import type * as t from '../value-types.js';

export const VERBOSITY_LEVELS = ['verbose', 'default', 'quiet'] as const;
export type Verbosity = (typeof VERBOSITY_LEVELS)[number];

export interface Setting<Out = unknown> {
  /** The variable's name, in the environment and in config.env. */
  key: string;
  /** The field of `Config` it fills (core/config.ts may derive more from it). */
  field: string;
  type: t.ValueType<Out>;
  /**
   * As written in config.env, and parsed like any value when the key is unset or blank (so `''`
   * gives an empty list). Without one, an unset key is `undefined`.
   */
  default?: string;
  /** One line: the comment above the key in config.env, and its row in the docs. */
  doc: string;
  /** Overrides the type's own words after "invalid KEY=value: expected". */
  expected?: string;
  /**
   * The value is never echoed. Must agree with isSecretKey(key), the name rule the rest of
   * kugetsu masks and scrubs by (a test checks): name a secret setting …_TOKEN, …_SECRET, ….
   */
  secret?: true;
  /** Not a secret by its name, but it may carry one (a URL's password): never echoed either. */
  conceal?: true;
}
