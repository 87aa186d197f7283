/**
 * Repository-owned prompt templates (`.kugetsu/WORKFLOW.md`) are Liquid, rendered by liquidjs:
 * the language Symphony's WORKFLOW.md is written in, with every standard tag and filter, made
 * strict for prompts.
 *
 * - Values are inserted as plain text (no HTML escaping: it is a prompt), and once: `{{ x }}`
 *   inside an issue body stays literal text. An object cannot be inserted (Liquid would print
 *   `[object Object]`); a list is inserted as its items run together, as in Liquid.
 * - Liquid's truthiness: only `nil` and `false` are false; `""` and `[]` are true. Test
 *   `{% if issue.labels.size > 0 %}` or `{% if issue.title != blank %}`.
 * - An unknown tag or filter is an error. `include`, `render` and `layout` are unknown: a
 *   prompt reads no files on kugetsu's host.
 * - With a schema, every variable the template reads is checked when it is compiled, by
 *   liquidjs's static analysis — the fields of `for` loop variables and `forloop` too — so a
 *   typo fails before an agent starts rather than leaving a blank in the prompt. Variables made
 *   by `assign` or `capture` are checked when rendering (`strictVariables`).
 *
 * Every error is one line naming the file, the line and the problem.
 */
import { ForTag, Liquid, LiquidError, type Template, type Variable, toValueSync } from 'liquidjs';
import { OperationError } from '../errors.js';

/**
 * A template that cannot be compiled or rendered. An OperationError, not a UsageError: the
 * user's command was fine, a file in the repository is wrong — and retrying cannot help until
 * that file is fixed, so it is permanent: the task runner does not retry it.
 */
export class TemplateError extends OperationError {
  constructor(
    readonly sourceName: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${sourceName} line ${line}: ${problem}`, { permanent: true });
  }
}

/** The type of one template variable, for compile-time checks. */
export type VariableType =
  | { readonly kind: 'string' | 'number' | 'boolean' }
  | { readonly kind: 'list'; readonly of: VariableType }
  | { readonly kind: 'object'; readonly fields: VariableSchema };

/** The variables a template may use, by name. */
export type VariableSchema = Readonly<Record<string, VariableType>>;

/** Builders for a {@link VariableSchema}. */
export const templateTypes = {
  string: { kind: 'string' } as VariableType,
  number: { kind: 'number' } as VariableType,
  boolean: { kind: 'boolean' } as VariableType,
  list: (of: VariableType): VariableType => ({ kind: 'list', of }),
  object: (fields: VariableSchema): VariableType => ({ kind: 'object', fields }),
};

export type TemplateValue =
  | string
  | number
  | boolean
  | null
  | readonly TemplateValue[]
  | { readonly [key: string]: TemplateValue };

export interface RenderedTemplate {
  text: string;
  /** What each `{{ }}` (or `echo`) inserted during this render, after its filters, in order. */
  inserted: readonly unknown[];
}

export interface CompiledTemplate {
  /** Renders with these values; throws TemplateError for a value the template cannot use. */
  render(values: Readonly<Record<string, TemplateValue>>): RenderedTemplate;
}

export interface CompileOptions {
  /** Named in every error message. Default: `template`. */
  sourceName?: string;
  /** The line number of the source's first line (a body after front matter). Default: 1. */
  firstLine?: number;
}

class NotText extends Error {}

/** Where the render in progress records what it inserts. renderSync is synchronous: one at a time. */
let inserting: unknown[] | null = null;

const isObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const engine = new Liquid({
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  // Not an escape: every output passes through this, so it sees what is inserted. The value is
  // returned as it is, and the emitter turns it into text as it would without the hook.
  outputEscape: (value: unknown): string => {
    if (isObject(value) || (Array.isArray(value) && value.some(isObject))) {
      throw new NotText('inserts an object, which has no text form; insert one of its fields');
    }
    inserting?.push(value);
    return value as string;
  },
  // A template from any repository runs in kugetsu's process: bound its time and memory.
  parseLimit: 1_000_000,
  renderLimit: 1_000,
  memoryLimit: 10_000_000,
});
for (const tag of ['include', 'render', 'layout']) Reflect.deleteProperty(engine.tags, tag);

/**
 * Compiles a template. With `knownVariables`, every variable is checked against that schema
 * now; without it, only the syntax is, and a missing variable is an error when rendering.
 * Throws TemplateError.
 */
export function compileTemplate(
  source: string,
  knownVariables?: VariableSchema,
  options: CompileOptions = {},
): CompiledTemplate {
  const sourceName = options.sourceName ?? 'template';
  const firstLine = options.firstLine ?? 1;
  const fail = (row: number, problem: string): never => {
    throw new TemplateError(sourceName, firstLine - 1 + row, problem);
  };
  const templates = withLiquid(() => engine.parse(source), fail);
  if (knownVariables !== undefined) {
    const problems: Problem[] = [];
    check(templates, new Map(Object.entries(knownVariables)), null, problems);
    const [first] = problems.sort((a, b) => a.row - b.row || a.col - b.col);
    if (first !== undefined) fail(first.row, first.problem);
  }
  return {
    render(values) {
      const inserted: unknown[] = [];
      inserting = inserted;
      try {
        const text = withLiquid(() => engine.renderSync(templates, values) as string, fail);
        return { text, inserted };
      } finally {
        inserting = null;
      }
    },
  };
}

/** liquidjs's wording, where kugetsu's says more. */
const REWORDED: [RegExp, (...groups: string[]) => string][] = [
  [/^undefined (variable|filter): (.*)$/, (_, what, name) => `unknown ${what} ${name}`],
  [
    /^tag "(end\w+|else|elsif|when)" not found$/,
    (_, tag) => `{% ${tag} %} outside the tag it belongs to (is a tag before it not closed?)`,
  ],
  [/^tag "(\w+)" not found$/, (_, tag) => `unknown tag {% ${tag} %}`],
];

/** Runs a liquidjs call; its errors become TemplateErrors at their line. */
function withLiquid<T>(run: () => T, fail: (row: number, problem: string) => never): T {
  try {
    return run();
  } catch (err) {
    if (!LiquidError.is(err)) throw err;
    const [row = 1] = err.token.getPosition();
    let problem = err.message.replace(/, line:\d+, col:\d+$/, '');
    for (const [pattern, say] of REWORDED) problem = problem.replace(pattern, say);
    if (err.originalError instanceof NotText) problem = `${err.token.getText()} ${problem}`;
    return fail(row, problem);
  }
}

// ---------------------------------------------------------------------------------------------
// Compile-time checks against the schema

/** `any`: known only when rendering (an index, a range, a filtered collection). */
type CheckedType = VariableType | { readonly kind: 'any' };
type Scope = ReadonlyMap<string, CheckedType>;
type Problem = { row: number; col: number; problem: string };

const ANY: CheckedType = { kind: 'any' };
const { number: num, boolean: bool, string: str } = templateTypes;
const FORLOOP = templateTypes.object({
  ...{ index: num, index0: num, rindex: num, rindex0: num, length: num },
  ...{ first: bool, last: bool, name: str },
});

/**
 * Collects what is wrong with the variables `templates` read from outside themselves (liquidjs's
 * globals). At the top every name must be in `scope`. liquidjs knows that a loop variable is in
 * scope but not what it holds, so each loop body is checked again, for its `bound` names only
 * (the loop variable as an item of its list, and `forloop`): the rest were checked above it.
 */
function check(
  templates: Template[],
  scope: Scope,
  bound: ReadonlySet<string> | null,
  problems: Problem[],
): void {
  const { globals } = engine.analyzeSync(templates, { partials: false });
  for (const use of Object.values(globals).flat()) {
    if (bound !== null && !bound.has(String(use.segments[0]))) continue;
    const type = typeOf(use.segments, scope);
    if (typeof type === 'string') problems.push({ ...use.location, problem: type });
  }
  for (const loop of outermostLoops(templates)) {
    // Only a plain path (`issue.comments`) has a known item type; a range or a filter's result not.
    const path = loop.collection.getText().trim();
    const list = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/.test(path)
      ? typeOf(path.split('.'), scope)
      : ANY;
    const item = typeof list !== 'string' && list.kind === 'list' ? list.of : ANY;
    const inner = new Map([...scope, [loop.variable, item], ['forloop', FORLOOP]]);
    check(childrenOf(loop), inner, new Set([loop.variable, 'forloop']), problems);
  }
}

const childrenOf = (node: Template): Template[] =>
  node.children === undefined ? [] : toValueSync(node.children(false, true));

const outermostLoops = (templates: Template[]): ForTag[] =>
  templates.flatMap((node) => (node instanceof ForTag ? [node] : outermostLoops(childrenOf(node))));

/** The type at the end of a path, or what is wrong with it. Liquid's `size`, `first`, `last` included. */
function typeOf(segments: Variable['segments'], scope: Scope): CheckedType | string {
  let walked = String(segments[0]);
  const rootType = scope.get(walked);
  if (rootType === undefined) return unknownVariable(walked, [...scope.keys()]);
  let type: CheckedType = rootType;
  for (const segment of segments.slice(1)) {
    if (type.kind === 'any') return ANY;
    if (typeof segment !== 'string') {
      // An index or a variable in brackets: an item of a list, or known only when rendering.
      if (type.kind !== 'list') return ANY;
      [type, walked] = [type.of, `${walked}[…]`];
      continue;
    }
    const path = `${walked}.${segment}`;
    const is = `unknown variable ${path}: ${walked} is ${describeType(type)}`;
    if (type.kind === 'object') {
      // Own fields only: `issue.constructor` is not a variable.
      const field = Object.hasOwn(type.fields, segment) ? type.fields[segment] : undefined;
      if (field === undefined) {
        return unknownVariable(
          path,
          Object.keys(type.fields).map((k) => `${walked}.${k}`),
        );
      }
      type = field;
    } else if (segment === 'size' && (type.kind === 'list' || type.kind === 'string')) {
      type = templateTypes.number;
    } else if ((segment === 'first' || segment === 'last') && type.kind === 'list') {
      type = type.of;
    } else {
      return type.kind === 'list' ? `${is} (use .size, .first, .last, or a for loop)` : is;
    }
    walked = path;
  }
  return type;
}

function describeType(type: CheckedType): string {
  if (type.kind === 'list') return `a list of ${describeType(type.of).replace(/^an? /, '')}s`;
  return type.kind === 'object' ? 'an object' : `a ${type.kind}`;
}

function unknownVariable(path: string, known: string[]): string {
  const prefix = path.slice(0, path.lastIndexOf('.') + 1);
  const guess = closest(
    path.slice(prefix.length),
    known.map((k) => k.slice(prefix.length)),
  );
  const hint = guess === null ? '' : `did you mean ${prefix}${guess}? `;
  return `unknown variable ${path} (${hint}known: ${known.join(', ')})`;
}

/** The candidate within a few edits of `name`, if one is. */
function closest(name: string, candidates: string[]): string | null {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost));
      }
      row = next;
    }
    return row[b.length] ?? 0;
  };
  const [best] = candidates
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .sort((a, b) => a.d - b.d);
  return best !== undefined && best.d <= Math.max(2, Math.floor(name.length / 3))
    ? best.candidate
    : null;
}
