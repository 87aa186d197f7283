/**
 * A small, strict template language for repository-owned prompts (`.kugetsu/WORKFLOW.md`): a
 * Liquid subset that a repository author would expect, and nothing that could surprise them.
 *
 * - `{{ issue.title }}` inserts a value as plain text (no HTML escaping: it is a prompt). A list
 *   of strings or numbers is inserted joined with ", "; an object cannot be inserted.
 * - `{{ issue.labels | join: ", " | default: "none" }}`: filters, applied left to right.
 * - `{% if x %}…{% elsif y %}…{% else %}…{% endif %}`, `{% unless x %}…{% endunless %}`, with
 *   `==`, `!=`, `<`, `<=`, `>`, `>=`, `contains`, `and`, `or` (`and` binds tighter).
 * - `{% for c in issue.comments %}…{% else %}(none){% endfor %}`, with `forloop.index`,
 *   `forloop.index0`, `forloop.first`, `forloop.last` and `forloop.length` inside.
 * - `{% raw %}…{% endraw %}` (literal text), `{% comment %}…{% endcomment %}` (dropped), and
 *   `{{-` / `-}}` / `{%-` / `-%}` to strip the whitespace (newlines included) on that side.
 * - Literals: "double" or 'single' quoted strings (no escapes), numbers, true, false, nil.
 *   Not supported: assignment, includes, `[index]` access, and any other Liquid tag or filter
 *   (each is an error naming what is known). A literal `{{` in the prompt needs `{% raw %}`.
 *
 * Empty things are false in a condition: null, false, "" and []. (Liquid calls "" and []
 * true; a prompt author writing `{% if issue.labels %}` means "has labels".) Numbers are true.
 *
 * Strictness is the point: a template is checked when it is compiled, against a schema of the
 * variables it may use, so a typo fails before an agent starts rather than leaving a blank in
 * the prompt. Every error is one line naming the file, the line and the problem. Values are
 * inserted once and never scanned again, so `{{ x }}` inside an issue body stays literal text.
 */
import { OperationError } from '../errors.js';

/**
 * A template that cannot be compiled or rendered. An OperationError, not a UsageError: the
 * user's command was fine, a file in the repository is wrong — and retrying cannot help until
 * that file is fixed (the task runner treats OperationErrors as permanent failures).
 */
export class TemplateError extends OperationError {
  constructor(
    readonly sourceName: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${sourceName} line ${line}: ${problem}`);
  }
}

/** The type of one template variable, for compile-time checks. */
export type VariableType =
  | { readonly kind: 'string' }
  | { readonly kind: 'number' }
  | { readonly kind: 'boolean' }
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
  /** Root variables whose value was inserted by an output tag during this render. */
  printed: ReadonlySet<string>;
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

/**
 * Compiles a template. With `knownVariables`, every variable, filter and loop is checked
 * against that schema now; without it, only the syntax is, and a missing variable is an error
 * when rendering. Throws TemplateError.
 */
export function compileTemplate(
  source: string,
  knownVariables?: VariableSchema,
  options: CompileOptions = {},
): CompiledTemplate {
  const sourceName = options.sourceName ?? 'template';
  const lineOf = lineCounter(source, options.firstLine ?? 1);
  const nodes = parse(source, sourceName, lineOf);
  if (knownVariables !== undefined) {
    checkNodes(nodes, scopeOf(knownVariables), sourceName);
  }
  return {
    render(values) {
      const printed = new Set<string>();
      const out: string[] = [];
      const scope = new Map<string, TemplateValue>(Object.entries(values));
      renderNodes(nodes, scope, { sourceName, printed, out });
      return { text: out.join(''), printed };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Syntax

interface PathOperand {
  kind: 'path';
  segments: string[];
}
interface LiteralOperand {
  kind: 'literal';
  value: string | number | boolean | null;
}
type Operand = PathOperand | LiteralOperand;

interface Filter {
  name: FilterName;
  args: Operand[];
}
interface Expression {
  base: Operand;
  filters: Filter[];
  line: number;
}

type ComparisonOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains';
interface Comparison {
  left: Operand;
  op: ComparisonOp | null;
  right: Operand | null;
}
/** `or` of `and`s of comparisons. */
type Condition = Comparison[][];

type Node =
  | { type: 'text'; value: string }
  | { type: 'output'; expr: Expression }
  | {
      type: 'if';
      branches: { condition: Condition; negate: boolean; body: Node[]; line: number }[];
      otherwise: Node[];
    }
  | {
      type: 'for';
      variable: string;
      collection: Expression;
      body: Node[];
      otherwise: Node[];
      line: number;
    };

const FILTERS = [
  'default',
  'downcase',
  'first',
  'join',
  'last',
  'size',
  'strip',
  'upcase',
] as const;
type FilterName = (typeof FILTERS)[number];
const FILTER_ARITY: Record<FilterName, [min: number, max: number]> = {
  default: [1, 1],
  downcase: [0, 0],
  first: [0, 0],
  join: [0, 1],
  last: [0, 0],
  size: [0, 0],
  strip: [0, 0],
  upcase: [0, 0],
};
const TAGS = ['if', 'elsif', 'else', 'endif', 'unless', 'endunless', 'for', 'endfor', 'raw'];
const TAG_LIST = 'if, elsif, else, endif, unless, endunless, for, endfor, raw, comment';

function lineCounter(source: string, firstLine: number): (offset: number) => number {
  const starts: number[] = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return firstLine + lo;
  };
}

type Token =
  | { t: 'ident'; v: string }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'punct'; v: string };

interface Tag {
  tokens: Token[];
  line: number;
  /** Offset just after the closing `}}` / `%}`. */
  end: number;
  trimBefore: boolean;
  trimAfter: boolean;
}

/** Lexes one tag's inside, from just after `{{` or `{%` to its closer. */
function lexTag(
  source: string,
  start: number,
  closer: '}}' | '%}',
  opener: string,
  line: number,
  fail: (line: number, problem: string) => never,
): Tag {
  const tokens: Token[] = [];
  let i = start;
  const trimBefore = source[i] === '-';
  if (trimBefore) i++;
  const unclosed = (): never =>
    fail(line, `${opener} is not closed (expected ${closer} before the next tag or the end)`);
  // A closer must come before the next opener: otherwise the tag's words would be read from
  // the text that follows it, and the error would name the wrong thing.
  // Quoted strings are skipped, so `default: "{{"` is a value, not a tag.
  for (let j = i, quote = ''; ; j++) {
    if (j >= source.length) unclosed();
    const c = source[j];
    if (quote !== '') {
      if (c === quote) quote = '';
      else if (c === '\n') break; // the lexer reports the unclosed string
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (source.startsWith(closer, j)) {
      break;
    } else if (source.startsWith('{{', j) || source.startsWith('{%', j)) {
      unclosed();
    }
  }
  for (;;) {
    while (i < source.length && /\s/.test(source[i] ?? '')) i++;
    if (i >= source.length) return unclosed();
    if (source.startsWith(closer, i) || source.startsWith(`-${closer}`, i)) {
      const trimAfter = source[i] === '-';
      return { tokens, line, end: i + (trimAfter ? 3 : 2), trimBefore, trimAfter };
    }
    const ch = source[i] ?? '';
    if (ch === '"' || ch === "'") {
      const close = source.indexOf(ch, i + 1);
      const newline = source.indexOf('\n', i + 1);
      if (close === -1 || (newline !== -1 && newline < close)) {
        fail(line, `a string opened with ${ch} is not closed on its line`);
      }
      tokens.push({ t: 'string', v: source.slice(i + 1, close) });
      i = close + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(source.slice(i, i + 32));
    if (number !== null) {
      tokens.push({ t: 'number', v: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(
      source.slice(i, i + 256),
    );
    if (ident !== null) {
      tokens.push({ t: 'ident', v: ident[0] });
      i += ident[0].length;
      if (source[i] === '.') fail(line, `${ident[0]}. is not a variable name`);
      continue;
    }
    const punct = /^(==|!=|<=|>=|<|>|\||:|,)/.exec(source.slice(i, i + 2));
    if (punct !== null) {
      tokens.push({ t: 'punct', v: punct[0] });
      i += punct[0].length;
      continue;
    }
    if (ch === '[') {
      fail(line, 'indexing with [ ] is not supported (use | first or | last, or a for loop)');
    }
    fail(line, `unexpected ${JSON.stringify(ch)} in ${opener} … ${closer}`);
  }
}

interface Frame {
  kind: 'root' | 'if' | 'unless' | 'for';
  line: number;
  node: Extract<Node, { type: 'if' | 'for' }> | null;
  /** Where text goes now: a branch body, the loop body, or an else part. */
  target: Node[];
  seenElse: boolean;
}

const OPENER = /\{\{|\{%/g;

function parse(source: string, sourceName: string, lineOf: (offset: number) => number): Node[] {
  function fail(line: number, problem: string): never {
    throw new TemplateError(sourceName, line, problem);
  }
  const root: Node[] = [];
  const stack: Frame[] = [{ kind: 'root', line: 0, node: null, target: root, seenElse: false }];
  const top = (): Frame => stack[stack.length - 1] as Frame;
  let trimNext = false;
  let pos = 0;

  const pushText = (text: string, trimEnd: boolean): void => {
    let value = trimNext ? text.replace(/^\s+/, '') : text;
    if (trimEnd) value = value.replace(/\s+$/, '');
    trimNext = false;
    if (value !== '') top().target.push({ type: 'text', value });
  };

  while (pos < source.length) {
    OPENER.lastIndex = pos;
    const opener = OPENER.exec(source);
    if (opener === null) {
      pushText(source.slice(pos), false);
      break;
    }
    const at = opener.index;
    const line = lineOf(at);
    const isOutput = source[at + 1] === '{';
    const tag = lexTag(source, at + 2, isOutput ? '}}' : '%}', isOutput ? '{{' : '{%', line, fail);
    pushText(source.slice(pos, at), tag.trimBefore);
    trimNext = tag.trimAfter;
    pos = tag.end;
    const reader = new TokenReader(tag.tokens, line, fail);

    if (isOutput) {
      if (tag.tokens.length === 0) fail(line, 'empty {{ }}');
      top().target.push({ type: 'output', expr: reader.expression(line) });
      reader.end('{{ … }}');
      continue;
    }

    const name = reader.ident('a tag name after {%');
    if (name === 'comment' || name === 'raw') {
      reader.end(`{% ${name} %}`);
      const endTag = new RegExp(`\\{%-?\\s*end${name}\\s*-?%\\}`).exec(source.slice(pos));
      if (endTag === null) fail(line, `{% ${name} %} is never closed (expected {% end${name} %})`);
      const inside = source.slice(pos, pos + endTag.index);
      if (name === 'raw') pushText(inside, endTag[0].startsWith('{%-'));
      else trimNext = false;
      pos += endTag.index + endTag[0].length;
      trimNext = endTag[0].endsWith('-%}');
      continue;
    }
    if (!TAGS.includes(name) && !name.startsWith('end')) {
      fail(line, `unknown tag {% ${name} %} (known: ${TAG_LIST})`);
    }
    const frame = top();
    switch (name) {
      case 'if':
      case 'unless': {
        const condition = reader.condition(line);
        reader.end(`{% ${name} %}`);
        const body: Node[] = [];
        const node: Node = {
          type: 'if',
          branches: [{ condition, negate: name === 'unless', body, line }],
          otherwise: [],
        };
        frame.target.push(node);
        stack.push({ kind: name, line, node, target: body, seenElse: false });
        break;
      }
      case 'elsif': {
        if (frame.kind !== 'if') fail(line, `{% elsif %} outside an {% if %}`);
        if (frame.seenElse)
          fail(line, `{% elsif %} after {% else %} (opened at line ${frame.line})`);
        const condition = reader.condition(line);
        reader.end('{% elsif %}');
        const body: Node[] = [];
        (frame.node as Extract<Node, { type: 'if' }>).branches.push({
          condition,
          negate: false,
          body,
          line,
        });
        frame.target = body;
        break;
      }
      case 'else': {
        reader.end('{% else %}');
        if (frame.kind === 'root') fail(line, '{% else %} outside an {% if %} or {% for %}');
        if (frame.seenElse) fail(line, `a second {% else %} for the tag at line ${frame.line}`);
        frame.seenElse = true;
        const node = frame.node as Extract<Node, { type: 'if' | 'for' }>;
        frame.target = node.otherwise;
        break;
      }
      case 'for': {
        const variable = reader.ident('a loop variable after {% for');
        if (variable.includes('.')) fail(line, `the loop variable ${variable} cannot be a path`);
        if (reader.ident('in after the loop variable') !== 'in') {
          fail(line, `expected {% for ${variable} in … %}`);
        }
        const collection = reader.expression(line);
        reader.end('{% for %}');
        const node: Node = { type: 'for', variable, collection, body: [], otherwise: [], line };
        frame.target.push(node);
        stack.push({ kind: 'for', line, node, target: node.body, seenElse: false });
        break;
      }
      default: {
        // An end tag: `endif`, `endunless`, `endfor`, or one that closes nothing we know.
        reader.end(`{% ${name} %}`);
        const opens = name.slice(3);
        if (!['if', 'unless', 'for', 'raw', 'comment'].includes(opens)) {
          fail(line, `unknown tag {% ${name} %} (known: ${TAG_LIST})`);
        }
        if (frame.kind === 'root' || opens === 'raw' || opens === 'comment')
          fail(line, `{% ${name} %} without an open {% ${opens} %}`);
        if (frame.kind !== opens) {
          fail(
            line,
            `{% ${name} %} closes {% ${frame.kind} %} opened at line ${frame.line} (expected {% end${frame.kind} %})`,
          );
        }
        stack.pop();
      }
    }
  }
  const open = top();
  if (open.kind !== 'root') {
    fail(open.line, `{% ${open.kind} %} is never closed (expected {% end${open.kind} %})`);
  }
  return root;
}

class TokenReader {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly line: number,
    private readonly fail: (line: number, problem: string) => never,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private describe(token: Token | undefined): string {
    if (token === undefined) return 'the end of the tag';
    return token.t === 'string' ? JSON.stringify(token.v) : String(token.v);
  }

  ident(what: string): string {
    const token = this.peek();
    if (token?.t !== 'ident')
      return this.fail(this.line, `expected ${what}, found ${this.describe(token)}`);
    this.i++;
    return token.v;
  }

  end(tag: string): void {
    const token = this.peek();
    if (token !== undefined) {
      this.fail(this.line, `unexpected ${this.describe(token)} in ${tag}`);
    }
  }

  private isPunct(v: string): boolean {
    const token = this.peek();
    return token?.t === 'punct' && token.v === v;
  }

  private isWord(v: string): boolean {
    const token = this.peek();
    return token?.t === 'ident' && token.v === v;
  }

  operand(): Operand {
    const token = this.peek();
    if (token === undefined)
      return this.fail(this.line, 'expected a variable or a value, found the end of the tag');
    this.i++;
    switch (token.t) {
      case 'string':
        return { kind: 'literal', value: token.v };
      case 'number':
        return { kind: 'literal', value: token.v };
      case 'ident':
        if (token.v === 'true' || token.v === 'false') {
          return { kind: 'literal', value: token.v === 'true' };
        }
        if (token.v === 'nil' || token.v === 'null') return { kind: 'literal', value: null };
        return { kind: 'path', segments: token.v.split('.') };
      case 'punct':
        return this.fail(this.line, `expected a variable or a value, found ${token.v}`);
    }
  }

  expression(line: number): Expression {
    const base = this.operand();
    const filters: Filter[] = [];
    while (this.isPunct('|')) {
      this.i++;
      const name = this.ident('a filter name after |');
      if (!(FILTERS as readonly string[]).includes(name)) {
        this.fail(line, `unknown filter ${name} (known: ${FILTERS.join(', ')})`);
      }
      const args: Operand[] = [];
      if (this.isPunct(':')) {
        this.i++;
        args.push(this.operand());
        while (this.isPunct(',')) {
          this.i++;
          args.push(this.operand());
        }
      }
      const filter = name as FilterName;
      const [min, max] = FILTER_ARITY[filter];
      if (args.length < min || args.length > max) {
        const wanted = min === max ? `${min}` : `${min} or ${max}`;
        this.fail(
          line,
          `filter ${filter} takes ${wanted} argument${max === 1 ? '' : 's'}, not ${args.length}`,
        );
      }
      filters.push({ name: filter, args });
    }
    return { base, filters, line };
  }

  condition(line: number): Condition {
    if (this.peek() === undefined) this.fail(line, 'expected a condition');
    const any: Comparison[][] = [];
    let all: Comparison[] = [];
    for (;;) {
      const left = this.operand();
      let op: ComparisonOp | null = null;
      let right: Operand | null = null;
      const token = this.peek();
      if (
        (token?.t === 'punct' && ['==', '!=', '<', '<=', '>', '>='].includes(token.v)) ||
        this.isWord('contains')
      ) {
        op = (token as Token).v as ComparisonOp;
        this.i++;
        right = this.operand();
      }
      all.push({ left, op, right });
      if (this.isWord('and')) {
        this.i++;
      } else if (this.isWord('or')) {
        this.i++;
        any.push(all);
        all = [];
      } else {
        any.push(all);
        return any;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Compile-time checks against the schema

/** `any`: the value is known only when rendering (loops over an unchecked value). */
type CheckedType = VariableType | { readonly kind: 'any' };
type Scope = ReadonlyMap<string, CheckedType>;

function scopeOf(schema: VariableSchema): Scope {
  return new Map(Object.entries(schema));
}

const FORLOOP: VariableType = templateTypes.object({
  index: templateTypes.number,
  index0: templateTypes.number,
  first: templateTypes.boolean,
  last: templateTypes.boolean,
  length: templateTypes.number,
});

function describeType(type: CheckedType): string {
  switch (type.kind) {
    case 'list':
      return `a list of ${describeType(type.of).replace(/^an? /, '')}s`;
    case 'object':
      return 'an object';
    case 'any':
      return 'a value';
    default:
      return `a ${type.kind}`;
  }
}

function closest(name: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function unknownVariable(path: string, known: string[]): string {
  const last = path.slice(path.lastIndexOf('.') + 1);
  const prefix = path.includes('.') ? path.slice(0, path.lastIndexOf('.') + 1) : '';
  const guess = closest(
    last,
    known.map((k) => k.slice(prefix.length)),
  );
  const hint = guess === null ? '' : `did you mean ${prefix}${guess}? `;
  return `unknown variable ${path} (${hint}known: ${known.join(', ')})`;
}

function pathType(segments: string[], scope: Scope, line: number, sourceName: string): CheckedType {
  const fail = (problem: string): never => {
    throw new TemplateError(sourceName, line, problem);
  };
  const [first, ...rest] = segments as [string, ...string[]];
  let type = scope.get(first);
  if (type === undefined) return fail(unknownVariable(first, [...scope.keys()]));
  let walked = first;
  for (const segment of rest) {
    const path = `${walked}.${segment}`;
    if (type.kind === 'any') return type;
    if (type.kind !== 'object') {
      const hint = type.kind === 'list' ? ' (use a filter: | size, | first, | last)' : '';
      return fail(`unknown variable ${path}: ${walked} is ${describeType(type)}${hint}`);
    }
    // Own fields only: `issue.constructor` is not a variable.
    const next: VariableType | undefined = Object.hasOwn(type.fields, segment)
      ? type.fields[segment]
      : undefined;
    if (next === undefined) {
      return fail(
        unknownVariable(
          path,
          Object.keys(type.fields).map((k) => `${walked}.${k}`),
        ),
      );
    }
    type = next;
    walked = path;
  }
  return type;
}

function operandType(
  operand: Operand,
  scope: Scope,
  line: number,
  sourceName: string,
): CheckedType {
  if (operand.kind === 'path') return pathType(operand.segments, scope, line, sourceName);
  const value = operand.value;
  if (value === null) return { kind: 'any' };
  return templateTypes[typeof value as 'string' | 'number' | 'boolean'];
}

const isScalar = (type: CheckedType): boolean =>
  type.kind === 'string' ||
  type.kind === 'number' ||
  type.kind === 'boolean' ||
  type.kind === 'any';

function expressionType(expr: Expression, scope: Scope, sourceName: string): CheckedType {
  const fail = (problem: string): never => {
    throw new TemplateError(sourceName, expr.line, problem);
  };
  let type = operandType(expr.base, scope, expr.line, sourceName);
  for (const filter of expr.filters) {
    const args = filter.args.map((arg) => operandType(arg, scope, expr.line, sourceName));
    if (type.kind === 'any') {
      type = filter.name === 'size' ? templateTypes.number : { kind: 'any' };
      continue;
    }
    const wrongInput = (wanted: string): never =>
      fail(`filter ${filter.name} needs ${wanted}, but gets ${describeType(type)}`);
    switch (filter.name) {
      case 'default':
        break;
      case 'join':
        if (type.kind !== 'list' || !isScalar(type.of)) wrongInput('a list of strings or numbers');
        if (args[0] !== undefined && !isScalar(args[0]))
          fail('the separator of join must be a string');
        type = templateTypes.string;
        break;
      case 'first':
      case 'last':
        if (type.kind !== 'list') wrongInput('a list');
        type = (type as Extract<VariableType, { kind: 'list' }>).of;
        break;
      case 'size':
        if (type.kind !== 'list' && type.kind !== 'string') wrongInput('a list or a string');
        type = templateTypes.number;
        break;
      case 'downcase':
      case 'upcase':
      case 'strip':
        if (type.kind !== 'string') wrongInput('a string');
        break;
    }
  }
  return type;
}

function pathName(operand: Operand): string {
  return operand.kind === 'path' ? operand.segments.join('.') : JSON.stringify(operand.value);
}

function checkNodes(nodes: Node[], scope: Scope, sourceName: string): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        break;
      case 'output': {
        const type = expressionType(node.expr, scope, sourceName);
        const printable = isScalar(type) || (type.kind === 'list' && isScalar(type.of));
        if (!printable) {
          const loop =
            type.kind === 'list'
              ? `; loop over it with {% for … in ${pathName(node.expr.base)} %}`
              : '';
          throw new TemplateError(
            sourceName,
            node.expr.line,
            `${pathName(node.expr.base)} is ${describeType(type)} and cannot be inserted as text${loop}`,
          );
        }
        break;
      }
      case 'if':
        for (const branch of node.branches) {
          for (const all of branch.condition) {
            for (const comparison of all) {
              operandType(comparison.left, scope, branch.line, sourceName);
              if (comparison.right !== null) {
                operandType(comparison.right, scope, branch.line, sourceName);
              }
            }
          }
          checkNodes(branch.body, scope, sourceName);
        }
        checkNodes(node.otherwise, scope, sourceName);
        break;
      case 'for': {
        const type = expressionType(node.collection, scope, sourceName);
        if (type.kind !== 'list' && type.kind !== 'any') {
          throw new TemplateError(
            sourceName,
            node.line,
            `cannot loop over ${pathName(node.collection.base)}: it is ${describeType(type)}, not a list`,
          );
        }
        if (scope.has(node.variable)) {
          throw new TemplateError(
            sourceName,
            node.line,
            `the loop variable ${node.variable} hides the variable of that name; choose another`,
          );
        }
        const inner = new Map(scope);
        inner.set(node.variable, type.kind === 'list' ? type.of : type);
        inner.set('forloop', FORLOOP);
        checkNodes(node.body, inner, sourceName);
        checkNodes(node.otherwise, scope, sourceName);
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

interface RenderState {
  sourceName: string;
  printed: Set<string>;
  out: string[];
}

/** A value, and the root variable it came from (for `printed`). */
interface Evaluated {
  value: TemplateValue;
  root: string | null;
}

type ValueScope = Map<string, TemplateValue>;

function isRecord(value: TemplateValue): value is { readonly [key: string]: TemplateValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function evalOperand(
  operand: Operand,
  scope: ValueScope,
  line: number,
  state: RenderState,
): Evaluated {
  if (operand.kind === 'literal') return { value: operand.value, root: null };
  const [first, ...rest] = operand.segments as [string, ...string[]];
  if (!scope.has(first)) {
    throw new TemplateError(state.sourceName, line, unknownVariable(first, [...scope.keys()]));
  }
  let value = scope.get(first) as TemplateValue;
  let walked = first;
  for (const segment of rest) {
    const path = `${walked}.${segment}`;
    if (!isRecord(value) || !Object.hasOwn(value, segment)) {
      const known = isRecord(value) ? Object.keys(value).map((k) => `${walked}.${k}`) : [];
      throw new TemplateError(state.sourceName, line, unknownVariable(path, known));
    }
    value = value[segment] as TemplateValue;
    walked = path;
  }
  return { value, root: first };
}

function isEmpty(value: TemplateValue): boolean {
  return (
    value === null ||
    value === false ||
    value === '' ||
    (Array.isArray(value) && value.length === 0)
  );
}

function toText(value: TemplateValue, line: number, state: RenderState, what: string): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    return value.map((item: TemplateValue) => toText(item, line, state, what)).join(', ');
  }
  throw new TemplateError(
    state.sourceName,
    line,
    `${what} is an object and cannot be inserted as text`,
  );
}

function evalExpression(expr: Expression, scope: ValueScope, state: RenderState): Evaluated {
  let current = evalOperand(expr.base, scope, expr.line, state);
  for (const filter of expr.filters) {
    const args = filter.args.map((arg) => evalOperand(arg, scope, expr.line, state));
    const value = current.value;
    const wrong = (wanted: string): never => {
      throw new TemplateError(
        state.sourceName,
        expr.line,
        `filter ${filter.name} needs ${wanted}, but gets ${JSON.stringify(value)}`,
      );
    };
    switch (filter.name) {
      case 'default':
        if (isEmpty(value)) current = args[0] as Evaluated;
        break;
      case 'join': {
        if (!Array.isArray(value)) wrong('a list');
        const separator =
          args[0] === undefined ? ' ' : toText(args[0].value, expr.line, state, 'the separator');
        current = {
          value: (value as TemplateValue[])
            .map((item) => toText(item, expr.line, state, 'an item'))
            .join(separator),
          root: current.root,
        };
        break;
      }
      case 'first':
      case 'last': {
        if (!Array.isArray(value)) wrong('a list');
        const list = value as TemplateValue[];
        const item = filter.name === 'first' ? list[0] : list[list.length - 1];
        current = { value: item ?? null, root: current.root };
        break;
      }
      case 'size':
        if (typeof value !== 'string' && !Array.isArray(value)) wrong('a list or a string');
        current = { value: (value as string | TemplateValue[]).length, root: current.root };
        break;
      case 'downcase':
      case 'upcase':
      case 'strip': {
        if (typeof value !== 'string') wrong('a string');
        const text = value as string;
        const result =
          filter.name === 'downcase'
            ? text.toLowerCase()
            : filter.name === 'upcase'
              ? text.toUpperCase()
              : text.trim();
        current = { value: result, root: current.root };
        break;
      }
    }
  }
  return current;
}

function compare(op: ComparisonOp, left: TemplateValue, right: TemplateValue): boolean {
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case 'contains':
      if (typeof left === 'string' && typeof right === 'string') return left.includes(right);
      return Array.isArray(left) && left.includes(right);
    default:
      // Ordering compares like with like; a number and a string are simply not in order.
      if (typeof left === 'number' && typeof right === 'number') return ordered(op, left, right);
      if (typeof left === 'string' && typeof right === 'string') return ordered(op, left, right);
      return false;
  }
}

function ordered<T extends number | string>(op: ComparisonOp, l: T, r: T): boolean {
  return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
}

function holds(condition: Condition, scope: ValueScope, line: number, state: RenderState): boolean {
  return condition.some((all) =>
    all.every(({ left, op, right }) => {
      const l = evalOperand(left, scope, line, state).value;
      if (op === null || right === null) return !isEmpty(l);
      return compare(op, l, evalOperand(right, scope, line, state).value);
    }),
  );
}

function renderNodes(nodes: Node[], scope: ValueScope, state: RenderState): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        state.out.push(node.value);
        break;
      case 'output': {
        const { value, root } = evalExpression(node.expr, scope, state);
        state.out.push(toText(value, node.expr.line, state, pathName(node.expr.base)));
        if (root !== null) state.printed.add(root);
        break;
      }
      case 'if': {
        const branch = node.branches.find(
          (b) => holds(b.condition, scope, b.line, state) !== b.negate,
        );
        renderNodes(branch?.body ?? node.otherwise, scope, state);
        break;
      }
      case 'for': {
        const { value } = evalExpression(node.collection, scope, state);
        if (value !== null && !Array.isArray(value)) {
          throw new TemplateError(
            state.sourceName,
            node.line,
            `cannot loop over ${pathName(node.collection.base)}: it is not a list`,
          );
        }
        const items = (value ?? []) as readonly TemplateValue[];
        if (items.length === 0) {
          renderNodes(node.otherwise, scope, state);
          break;
        }
        const inner = new Map(scope);
        items.forEach((item, index) => {
          inner.set(node.variable, item);
          inner.set('forloop', {
            index: index + 1,
            index0: index,
            first: index === 0,
            last: index === items.length - 1,
            length: items.length,
          });
          renderNodes(node.body, inner, state);
        });
        break;
      }
    }
  }
}
