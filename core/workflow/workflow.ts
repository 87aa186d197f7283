/**
 * A repository's own prompt and workspace hooks: `.kugetsu/WORKFLOW.md` on its default branch,
 * in the spirit of OpenAI Symphony's WORKFLOW.md. Pure: the caller reads the file.
 *
 * ```
 * ---
 * hooks:
 *   after_create: npm ci
 *   before_run: git fetch origin && git rebase origin/main
 *   timeout_ms: 120000
 * ---
 * Fix {{ issue.ref }}: {{ issue.title }}
 * {{ issue.body }}
 * ```
 *
 * The front matter (optional: a file without it is all template) is YAML between a first line
 * `---` and the next `---` line. kugetsu reads `hooks`; every other key is kept in `config`
 * and otherwise ignored, so a Symphony file (tracker, polling, agent, codex, …) parses. The
 * body is the prompt template, in Liquid (see prompt-template.ts), checked against
 * PROMPT_VARIABLES (prompt.ts) when the file is parsed, so a typo fails before an agent starts.
 */
import { type Document, type Node as YamlNode, isNode, parseDocument } from 'yaml';
import { z } from 'zod';
import { OperationError } from '../errors.js';
import { type CompiledTemplate, compileTemplate } from './prompt-template.js';
import { PROMPT_VARIABLES } from './prompt.js';
import { WORKFLOW_PATH } from './workflow-path.js';

/** Symphony's default: every hook gets a minute unless `hooks.timeout_ms` says otherwise. */
export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;

export const HOOK_NAMES = ['after_create', 'before_run', 'after_run', 'before_remove'] as const;
/**
 * When each runs (Symphony's semantics): `after_create` once, in a newly made worktree (failure
 * aborts the task); `before_run` before each attempt (failure fails the attempt); `after_run`
 * after each attempt however it ended, and `before_remove` before a worktree is destroyed
 * (failures of these two are logged and ignored).
 */
export type HookName = (typeof HOOK_NAMES)[number];

export interface WorkflowHooks {
  /** Shell scripts by hook; a hook that is absent or blank is not in the record. */
  scripts: Partial<Record<HookName, string>>;
  /** For every hook. Default {@link DEFAULT_HOOK_TIMEOUT_MS}. */
  timeoutMs: number;
}

export interface Workflow {
  /** The file's name in messages, e.g. `.kugetsu/WORKFLOW.md`. */
  source: string;
  /** The whole front matter as parsed (`{}` without one), unknown keys included. */
  config: Record<string, unknown>;
  hooks: WorkflowHooks;
  /** The template body as written. */
  body: string;
  template: CompiledTemplate;
}

/** A WORKFLOW.md that cannot be used: every attempt fails until it is fixed. */
export class WorkflowError extends OperationError {
  override readonly permanent = true;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const script = z.string({ invalid_type_error: 'must be a shell script (a string)' }).nullish();
const timeoutMs = z
  .number({ invalid_type_error: 'must be a positive whole number of milliseconds' })
  .int('must be a positive whole number of milliseconds')
  .positive('must be a positive whole number of milliseconds');

/**
 * Strict inside `hooks` (Symphony defines exactly these keys: a misspelt hook would otherwise
 * silently never run); open at the top level, for Symphony's and future keys.
 */
const frontMatterSchema = z
  .object({
    hooks: z
      .object(
        {
          after_create: script,
          before_run: script,
          after_run: script,
          before_remove: script,
          timeout_ms: timeoutMs.nullish(),
        },
        { invalid_type_error: 'must be a mapping of hook names to shell scripts' },
      )
      .strict()
      .nullish(),
  })
  .passthrough();

/**
 * Parses a WORKFLOW.md. Throws WorkflowError (front matter) or TemplateError (template), each
 * one line naming `source`, the line and the problem.
 */
export function parseWorkflow(text: string, source = WORKFLOW_PATH): Workflow {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let config: Record<string, unknown> = {};
  let hooks: WorkflowHooks = { scripts: {}, timeoutMs: DEFAULT_HOOK_TIMEOUT_MS };
  let bodyStart = 0;

  if (lines[0]?.trimEnd() === '---') {
    const close = lines.findIndex((line, i) => i > 0 && line.trimEnd() === '---');
    if (close === -1) {
      throw new WorkflowError(
        `${source} line 1: the front matter opened here has no closing --- line`,
      );
    }
    ({ config, hooks } = parseFrontMatter(lines.slice(1, close).join('\n'), source));
    bodyStart = close + 1;
  }

  const body = lines.slice(bodyStart).join('\n');
  if (body.trim() === '') {
    throw new WorkflowError(
      `${source}: the prompt template is empty; write the prompt after the front matter, or delete the file to use kugetsu's built-in prompt`,
    );
  }
  const template = compileTemplate(body, PROMPT_VARIABLES, {
    sourceName: source,
    firstLine: bodyStart + 1,
  });
  return { source, config, hooks, body, template };
}

/** Front matter lines are numbered from the file's line 2 (line 1 is `---`). */
const FRONT_MATTER_FIRST_LINE = 2;

function parseFrontMatter(
  yamlText: string,
  source: string,
): { config: Record<string, unknown>; hooks: WorkflowHooks } {
  const doc = parseDocument(yamlText);
  const lineAt = (offset: number): number =>
    FRONT_MATTER_FIRST_LINE + (yamlText.slice(0, offset).match(/\n/g)?.length ?? 0);

  const [yamlError] = doc.errors;
  if (yamlError !== undefined) {
    const line = FRONT_MATTER_FIRST_LINE - 1 + (yamlError.linePos?.[0].line ?? 1);
    const problem = (yamlError.message.split('\n')[0] ?? '').replace(
      / at line \d+, column \d+:?$/,
      '',
    );
    throw new WorkflowError(`${source} line ${line}: invalid YAML in the front matter: ${problem}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) {
    return { config: {}, hooks: { scripts: {}, timeoutMs: DEFAULT_HOOK_TIMEOUT_MS } };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new WorkflowError(
      `${source} line ${FRONT_MATTER_FIRST_LINE}: the front matter must be a YAML mapping (key: value lines), not ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`,
    );
  }

  const parsed = frontMatterSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.ZodIssue;
    let path = issue.path.map(String);
    let problem: string;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      path = [...path, key];
      problem = `${path.join('.')} is not a hook setting (known: ${[...HOOK_NAMES, 'timeout_ms'].map((k) => `hooks.${k}`).join(', ')})`;
    } else {
      const got = valueAt(value, path);
      problem = `${path.join('.')} ${issue.message} (got ${describe(got)})`;
    }
    const node = nodeAt(doc, path);
    const where = node?.range ? ` line ${lineAt(node.range[0])}` : '';
    throw new WorkflowError(`${source}${where}: ${problem}`);
  }

  const scripts: Partial<Record<HookName, string>> = {};
  for (const name of HOOK_NAMES) {
    const body = parsed.data.hooks?.[name];
    if (typeof body === 'string' && body.trim() !== '') scripts[name] = body;
  }
  return {
    config: value as Record<string, unknown>,
    hooks: { scripts, timeoutMs: parsed.data.hooks?.timeout_ms ?? DEFAULT_HOOK_TIMEOUT_MS },
  };
}

/** The YAML node of a key (for an unknown key, the key itself), for its line number. */
function nodeAt(doc: Document, path: string[]): YamlNode | null {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const last = path[path.length - 1];
  if (isNode(parent) && 'items' in parent && Array.isArray(parent.items) && last !== undefined) {
    for (const pair of parent.items as { key: unknown }[]) {
      if (isNode(pair.key) && String((pair.key as { value?: unknown }).value) === last) {
        return pair.key;
      }
    }
  }
  const node: unknown = doc.getIn(path, true);
  return isNode(node) ? node : null;
}

function valueAt(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    current =
      typeof current === 'object' && current !== null
        ? (current as Record<string, unknown>)[key]
        : undefined;
  }
  return current;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return JSON.stringify(value) ?? String(value);
}
