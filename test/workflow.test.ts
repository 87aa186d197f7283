/**
 * `.kugetsu/WORKFLOW.md`: front matter, its Liquid templates (liquidjs, made strict), and the
 * prompt built from them (pure; no processes).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OperationError, UsageError } from '../core/errors.js';
import {
  TemplateError,
  type VariableSchema,
  compileTemplate,
  templateTypes as t,
} from '../core/workflow/prompt-template.js';
import {
  APPENDED_MESSAGE_HEADING,
  BUILT_IN_TEMPLATE,
  PROMPT_VARIABLES,
  type PromptVariables,
  renderPrompt,
} from '../core/workflow/prompt.js';
import {
  DEFAULT_HOOK_TIMEOUT_MS,
  WorkflowError,
  parseWorkflow,
} from '../core/workflow/workflow.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`fixtures/workflow/${name}`, import.meta.url), 'utf8');

function vars(overrides: Partial<PromptVariables> = {}): PromptVariables {
  return {
    issue: {
      ref: 'git.example.com/me/app#14',
      number: 14,
      title: 'Login test is flaky',
      body: 'It fails one run in ten.',
      state: 'open',
      labels: ['bug', 'ci'],
      url: 'https://git.example.com/me/app/issues/14',
      author: 'alice',
      comments: [
        { author: 'bob', body: 'Seen it on main too.', created_at: '2026-01-02T03:04:05Z' },
        { author: 'carol', body: 'Timing, I think.', created_at: '2026-01-03T00:00:00Z' },
      ],
    },
    message: 'fix the flaky login test',
    branch: 'kugetsu/git.example.com-me-app-14',
    repo: 'me/app',
    default_branch: 'main',
    attempt: 1,
    ...overrides,
  };
}

/** Compiles against the prompt schema, names the source `W`, and renders with `vars()`. */
function render(source: string, values: PromptVariables = vars()): string {
  return compileTemplate(source, PROMPT_VARIABLES, { sourceName: 'W' }).render(values).text;
}

/** The error a compile throws, so a test can look at its message and class. */
function compileError(source: string, schema: VariableSchema = PROMPT_VARIABLES): TemplateError {
  try {
    compileTemplate(source, schema, { sourceName: 'W' });
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error(`compiled without an error: ${source}`);
}

function workflowError(text: string): Error {
  try {
    parseWorkflow(text);
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error('parsed without an error');
}

const ISSUE_FIELDS =
  'issue.ref, issue.number, issue.title, issue.body, issue.state, issue.labels, issue.url, issue.author, issue.comments, issue.identifier, issue.id, issue.description';
const ROOTS = 'issue, message, branch, repo, default_branch, attempt';

describe('parseWorkflow: front matter', () => {
  it('reads hooks, keeps Symphony-style keys, and numbers template lines from the file', () => {
    const workflow = parseWorkflow(fixture('symphony.md'));
    expect(workflow.hooks).toEqual({
      scripts: {
        after_create: 'git config user.name kugetsu\nnpm ci\n',
        before_run: 'npm run build',
        after_run: 'echo done',
      },
      timeoutMs: 120_000,
    });
    expect(workflow.config).toMatchObject({
      tracker: { kind: 'linear', project_slug: 'app' },
      polling: { interval_ms: 30000 },
      codex: { command: 'codex app-server' },
    });
    expect(workflow.source).toBe('.kugetsu/WORKFLOW.md');
    expect(renderPrompt(workflow, vars())).toMatch(/^Work on git\.example\.com\/me\/app#14/);
  });

  it('a file without front matter is all template, with default hooks', () => {
    const workflow = parseWorkflow('Just {{ issue.title }}.\n');
    expect(workflow.config).toEqual({});
    expect(workflow.hooks).toEqual({ scripts: {}, timeoutMs: DEFAULT_HOOK_TIMEOUT_MS });
    expect(DEFAULT_HOOK_TIMEOUT_MS).toBe(60_000);
    expect(workflow.body).toBe('Just {{ issue.title }}.\n');
  });

  it('accepts empty front matter, an empty hooks key, blank scripts, CRLF and a BOM', () => {
    expect(parseWorkflow('---\n---\nHi').hooks.scripts).toEqual({});
    expect(parseWorkflow('---\nhooks:\n---\nHi').hooks.scripts).toEqual({});
    const workflow = parseWorkflow(
      '\uFEFF---\r\nhooks:\r\n  before_run: "  "\r\n  after_run: make\r\n---\r\nHi {{ repo }}\r\n',
    );
    expect(workflow.hooks.scripts).toEqual({ after_run: 'make' });
    expect(renderPrompt(workflow, vars({ message: '' }))).toBe('Hi me/app');
  });

  it('a wrong type for a known key names the key, the line and the value', () => {
    const timeout = workflowError('---\nhooks:\n  before_run: make\n  timeout_ms: "5s"\n---\nx');
    expect(timeout).toBeInstanceOf(WorkflowError);
    expect(timeout.message).toBe(
      '.kugetsu/WORKFLOW.md line 4: hooks.timeout_ms must be a positive whole number of milliseconds (got "5s")',
    );
    expect(workflowError('---\nhooks:\n  timeout_ms: -1\n---\nx').message).toMatch(
      /^\.kugetsu\/WORKFLOW\.md line 3: hooks\.timeout_ms must be a positive .* \(got -1\)$/,
    );
    expect(workflowError('---\nhooks:\n  timeout_ms: 1.5\n---\nx').message).toContain(
      'hooks.timeout_ms',
    );
    expect(workflowError('---\nx: 1\nhooks:\n  after_create: [npm, ci]\n---\nx').message).toBe(
      '.kugetsu/WORKFLOW.md line 4: hooks.after_create must be a shell script (a string) (got a list)',
    );
    expect(workflowError('---\nhooks: npm ci\n---\nx').message).toBe(
      '.kugetsu/WORKFLOW.md line 2: hooks must be a mapping of hook names to shell scripts (got "npm ci")',
    );
  });

  it('a misspelt hook is an error, not a hook that silently never runs', () => {
    expect(workflowError('---\nhooks:\n  before_run: a\n  after_creat: b\n---\nx').message).toBe(
      '.kugetsu/WORKFLOW.md line 4: hooks.after_creat is not a hook setting (known: hooks.after_create, hooks.before_run, hooks.after_run, hooks.before_remove, hooks.timeout_ms)',
    );
  });

  it('bad YAML is an error with the file line', () => {
    const err = workflowError('---\nhooks:\n  before_run: make\n  after_run: [a\nz: 1\n---\nx');
    expect(err).toBeInstanceOf(WorkflowError);
    expect(err.message).toMatch(
      /^\.kugetsu\/WORKFLOW\.md line 5: invalid YAML in the front matter: /,
    );
    expect(err.message).not.toContain('\n');
    expect(workflowError('---\na: 1\na: 2\n---\nx').message).toBe(
      '.kugetsu/WORKFLOW.md line 3: invalid YAML in the front matter: Map keys must be unique',
    );
  });

  it('rejects front matter that is not a mapping, that never closes, or an empty template', () => {
    expect(workflowError('---\n- a\n- b\n---\nx').message).toBe(
      '.kugetsu/WORKFLOW.md line 2: the front matter must be a YAML mapping (key: value lines), not a list',
    );
    expect(workflowError('---\nhooks: {}\nHello').message).toBe(
      '.kugetsu/WORKFLOW.md line 1: the front matter opened here has no closing --- line',
    );
    expect(workflowError('---\nhooks: {}\n---\n  \n\n').message).toMatch(
      /^\.kugetsu\/WORKFLOW\.md: the prompt template is empty/,
    );
    expect(workflowError('').message).toMatch(/the prompt template is empty/);
  });

  it('a template error is reported at its line in the file, and fails the parse', () => {
    const err = workflowError(fixture('typo.md'));
    expect(err).toBeInstanceOf(TemplateError);
    expect(err.message).toBe(
      `.kugetsu/WORKFLOW.md line 8: unknown variable issue.titel (did you mean issue.title? known: ${ISSUE_FIELDS})`,
    );
    expect(() => parseWorkflow('x {{ nope }}', 'repo/WORKFLOW.md')).toThrow(
      /^repo\/WORKFLOW\.md line 1: unknown variable nope \(known: issue, message, branch, repo, default_branch, attempt\)$/,
    );
  });

  it('errors are OperationErrors: the command was fine, the repository file is not', () => {
    const err = workflowError('---\nhooks: 1\n---\nx');
    expect(err).toBeInstanceOf(OperationError);
    expect(err).not.toBeInstanceOf(UsageError);
    expect(compileError('{{ x }}')).toBeInstanceOf(OperationError);
  });
});

describe('Liquid templates', () => {
  it('inserts dotted paths and numbers as text, without escaping', () => {
    expect(render('{{ issue.title }} #{{issue.number}} {{ repo }} {{ attempt }}')).toBe(
      'Login test is flaky #14 me/app 1',
    );
    const html = vars({ message: '<b>&amp;</b> "q"' });
    expect(render('{{ message }}', html)).toBe('<b>&amp;</b> "q"');
  });

  it('a list is inserted with its items run together, as Liquid (and Symphony) do; join separates them', () => {
    expect(render('[{{ issue.labels }}] [{{ issue.labels | join: ", " }}]')).toBe(
      '[bugci] [bug, ci]',
    );
  });

  it('if / elsif / else / unless, with comparisons and and/or', () => {
    const tpl =
      '{% if issue.labels.size > 0 %}labels{% else %}none{% endif %}|' +
      '{% if attempt > 2 %}late{% elsif attempt == 2 %}second{% else %}first{% endif %}|' +
      '{% unless issue.comments == empty %}talk{% else %}quiet{% endunless %}|' +
      '{% if issue.labels contains "bug" and issue.state == "open" %}open bug{% endif %}|' +
      '{% if issue.title contains "nope" or attempt != 1 %}yes{% else %}no{% endif %}';
    expect(render(tpl)).toBe('labels|first|talk|open bug|no');
    const other = vars({
      attempt: 2,
      issue: { ...vars().issue, labels: [], comments: [], state: 'closed' },
    });
    expect(render(tpl, other)).toBe('none|second|quiet||yes');
    expect(
      render(
        '{% if attempt >= 3 %}a{% endif %}{% if attempt <= 3 %}b{% endif %}',
        vars({ attempt: 3 }),
      ),
    ).toBe('ab');
    expect(render('{% if attempt < 3 %}a{% endif %}', vars({ attempt: 3 }))).toBe('');
  });

  it('truthiness is Liquid’s: only nil and false are false; "", [] and 0 are true', () => {
    const empty = vars({ issue: { ...vars().issue, body: '', labels: [] }, attempt: 0 });
    const tests =
      '{% if issue.body %}b{% endif %}{% if issue.labels %}l{% endif %}{% if attempt %}n{% endif %}' +
      '{% if false %}f{% endif %}{% if nil %}x{% endif %}';
    expect(render(tests, empty)).toBe('bln');
    // What a prompt author means by "has a body" / "has labels":
    const meant =
      '{% if issue.body != blank %}b{% endif %}{% if issue.labels.size > 0 %}l{% endif %}' +
      '{% if issue.labels != empty %}e{% endif %}';
    expect(render(meant, empty)).toBe('');
    expect(render(meant)).toBe('ble');
    const spaces = vars({ issue: { ...vars().issue, title: '  ' } });
    expect(render('{% if issue.title == blank %}blank{% endif %}', spaces)).toBe('blank');
  });

  it('for loops, with forloop, reversed, offset, limit and for-else', () => {
    expect(
      render(
        '{% for c in issue.comments %}{{ forloop.index }}/{{ forloop.length }} {{ c.author }}: {{ c.body }}{% unless forloop.last %}; {% endunless %}{% endfor %}',
      ),
    ).toBe('1/2 bob: Seen it on main too.; 2/2 carol: Timing, I think.');
    const none = vars({ issue: { ...vars().issue, comments: [] } });
    expect(
      render('{% for c in issue.comments %}{{ c.author }}{% else %}no comments{% endfor %}', none),
    ).toBe('no comments');
    expect(render('{% for l in issue.labels %}<{{ l | upcase }}>{% endfor %}')).toBe('<BUG><CI>');
    expect(
      render(
        '{% for c in issue.comments %}{% if forloop.first %}{{ forloop.index0 }}{% endif %}{% endfor %}',
      ),
    ).toBe('0');
    expect(render('{% for c in issue.comments reversed %}{{ c.author }} {% endfor %}')).toBe(
      'carol bob ',
    );
    expect(render('{% for c in issue.comments offset: 1 %}{{ c.author }}{% endfor %}')).toBe(
      'carol',
    );
    expect(render('{% for c in issue.comments limit: 1 %}{{ c.author }}{% endfor %}')).toBe('bob');
  });

  it('filters: join, default, size, first, last, upcase, downcase, strip, truncate', () => {
    expect(
      render(
        '{{ issue.labels | join: ", " }}|{{ issue.labels | join }}|{{ issue.labels | join: "+" | upcase }}',
      ),
    ).toBe('bug, ci|bug ci|BUG+CI');
    const empty = vars({ issue: { ...vars().issue, labels: [], body: '' } });
    expect(
      render(
        '{{ issue.labels | join: ", " | default: "none" }}/{{ issue.body | default: "(empty)" }}/{{ issue.title | default: "x" }}',
        empty,
      ),
    ).toBe('none/(empty)/Login test is flaky');
    expect(
      render(
        '{{ issue.comments | size }} {{ issue.title | size }} {{ issue.labels | first }} {{ issue.labels | last }}',
      ),
    ).toBe('2 19 bug ci');
    expect(render('{{ issue.labels | last | upcase }}')).toBe('CI');
    expect(render("{{ ' Mixed Case ' | strip | downcase }}!")).toBe('mixed case!');
    expect(render('{{ issue.title | truncate: 10 }}|{{ issue.body | truncatewords: 2 }}')).toBe(
      'Login t...|It fails...',
    );
  });

  it('size, first and last are properties too', () => {
    expect(
      render(
        '{{ issue.labels.size }} {{ issue.title.size }} {{ issue.labels.first }} {{ issue.comments.last.author }} {{ issue.labels[1] }}',
      ),
    ).toBe('2 19 bug carol ci');
  });

  it('assign, capture and case', () => {
    expect(
      render(
        '{% assign shout = issue.title | upcase %}{% capture who %}{{ issue.author }} ({{ issue.state }}){% endcapture %}{{ shout }} by {{ who }}',
      ),
    ).toBe('LOGIN TEST IS FLAKY by alice (open)');
    const tpl =
      '{% case attempt %}{% when 1 %}first{% when 2, 3 %}again{% else %}late{% endcase %}';
    expect(render(tpl)).toBe('first');
    expect(render(tpl, vars({ attempt: 3 }))).toBe('again');
    expect(render(tpl, vars({ attempt: 9 }))).toBe('late');
  });

  it('whitespace control strips on the side of the dash; raw and comment', () => {
    expect(render('a\n  {%- if true %}\nb\n{%- endif %}\n  c')).toBe('a\nb\n  c');
    expect(render('x  {{- repo -}}  y')).toBe('xme/appy');
    expect(render('{% raw %}{{ not.a.variable }} {% for %}{% endraw %}!')).toBe(
      '{{ not.a.variable }} {% for %}!',
    );
    expect(render('a{% comment %} {{ issue.titel }} {% bogus %} {% endcomment %}b')).toBe('ab');
  });

  it('renders text without tags unchanged, and lone braces as text', () => {
    expect(render('{ a } }} %} {x}')).toBe('{ a } }} %} {x}');
  });

  it('a loop variable may shadow a variable, and is checked as the item it is', () => {
    expect(render('{% for issue in issue.comments %}{{ issue.author }} {% endfor %}')).toBe(
      'bob carol ',
    );
    expect(
      compileError('{% for issue in issue.comments %}{{ issue.title }}{% endfor %}').message,
    ).toBe(
      'W line 1: unknown variable issue.title (known: issue.author, issue.body, issue.created_at)',
    );
  });
});

describe('template errors name the problem and its line', () => {
  const cases: [name: string, source: string, message: string][] = [
    [
      'unknown variable',
      'line 1\n\n{{ issue.titel }}',
      `W line 3: unknown variable issue.titel (did you mean issue.title? known: ${ISSUE_FIELDS})`,
    ],
    [
      'an inherited property is not a field',
      '{{ issue.constructor }}{{ issue.__proto__ }}',
      `W line 1: unknown variable issue.constructor (known: ${ISSUE_FIELDS})`,
    ],
    [
      'unknown root variable',
      '{{ mesage }}',
      `W line 1: unknown variable mesage (did you mean message? known: ${ROOTS})`,
    ],
    [
      'unknown variable inside a branch never taken',
      '{% if false %}\n{{ issue.nope }}\n{% endif %}',
      `W line 2: unknown variable issue.nope (known: ${ISSUE_FIELDS})`,
    ],
    [
      'unknown variable in a condition',
      '\n{% if issue.labelz %}x{% endif %}',
      `W line 2: unknown variable issue.labelz (did you mean issue.labels? known: ${ISSUE_FIELDS})`,
    ],
    [
      'unknown variable in a when never taken',
      '{% case attempt %}{% when 99 %}\n{{ issue.nope }}{% endcase %}',
      `W line 2: unknown variable issue.nope (known: ${ISSUE_FIELDS})`,
    ],
    [
      'unknown variable in an assign and a filter argument',
      '{{ repo }}\n{% assign x = issue.titel %}{{ repo | append: branch | append: brnch }}',
      `W line 2: unknown variable issue.titel (did you mean issue.title? known: ${ISSUE_FIELDS})`,
    ],
    [
      'the first error in the file is the one reported',
      '{{ issue.title }}\n{{ mesage }}\n{{ issue.nope }}',
      `W line 2: unknown variable mesage (did you mean message? known: ${ROOTS})`,
    ],
    [
      'unknown field of a loop variable',
      '{% for c in issue.comments %}\n{{ c.bdy }}{% endfor %}',
      'W line 2: unknown variable c.bdy (did you mean c.body? known: c.author, c.body, c.created_at)',
    ],
    [
      'unknown field of a loop variable in a nested loop',
      '{% for c in issue.comments %}{% for l in issue.labels %}\n{{ l }}{{ c.user }}{% endfor %}{% endfor %}',
      'W line 2: unknown variable c.user (known: c.author, c.body, c.created_at)',
    ],
    [
      'field of a loop variable that is a string',
      '{% for l in issue.labels %}{{ l.size }}\n{{ l.name }}{% endfor %}',
      'W line 2: unknown variable l.name: l is a string',
    ],
    [
      'unknown forloop field',
      '{% for c in issue.comments %}{{ forloop.rindex }}\n{{ forloop.idx }}{% endfor %}',
      'W line 2: unknown variable forloop.idx (did you mean forloop.index? known: forloop.index, forloop.index0, forloop.rindex, forloop.rindex0, forloop.length, forloop.first, forloop.last, forloop.name)',
    ],
    [
      'loop variable used after its loop',
      '{% for c in issue.comments %}{% endfor %}\n{{ c.body }}',
      `W line 2: unknown variable c (known: ${ROOTS})`,
    ],
    [
      'forloop outside a loop',
      '{{ forloop.index }}',
      `W line 1: unknown variable forloop (known: ${ROOTS})`,
    ],
    [
      'field of a string',
      '{{ issue.title.words }}',
      'W line 1: unknown variable issue.title.words: issue.title is a string',
    ],
    [
      'field of a number',
      '{{ attempt.size }}',
      'W line 1: unknown variable attempt.size: attempt is a number',
    ],
    [
      'field of a list',
      '{{ issue.labels.count }}',
      'W line 1: unknown variable issue.labels.count: issue.labels is a list of strings (use .size, .first, .last, or a for loop)',
    ],
    [
      'field of an item of a list',
      '{{ issue.comments.first.user }}{{ issue.comments[0].author }}',
      'W line 1: unknown variable issue.comments.first.user (known: issue.comments.first.author, issue.comments.first.body, issue.comments.first.created_at)',
    ],
    ['unknown filter', '\n{{ issue.title | upper }}', 'W line 2: unknown filter upper'],
    ['unclosed output', 'a {{ issue.title', 'W line 1: output "{{ issue.title" not closed'],
    [
      'output closed as a tag',
      '{{ issue.title %}',
      'W line 1: output "{{ issue.title %}" not closed',
    ],
    ['unclosed tag', '\n{% if issue.title', 'W line 2: tag "{% if issue.title" not closed'],
    ['unclosed if', 'a\n{% if issue.title %}\nb', 'W line 2: tag {% if issue.title %} not closed'],
    [
      'unclosed for inside if',
      '{% if issue.title %}\n{% for c in issue.comments %}\n{% endif %}',
      'W line 3: {% endif %} outside the tag it belongs to (is a tag before it not closed?)',
    ],
    [
      'stray endfor',
      'a\n\n{% endfor %}',
      'W line 3: {% endfor %} outside the tag it belongs to (is a tag before it not closed?)',
    ],
    [
      'stray else',
      '\n{% else %}',
      'W line 2: {% else %} outside the tag it belongs to (is a tag before it not closed?)',
    ],
    ['unknown tag', '\n{% bogus "x" %}', 'W line 2: unknown tag {% bogus %}'],
    [
      'include reads no file',
      '\n{% include "config.env" %}',
      'W line 2: unknown tag {% include %}',
    ],
    ['render reads no file', '{% render "../.env" %}', 'W line 1: unknown tag {% render %}'],
    ['layout reads no file', '{% layout "x" %}', 'W line 1: unknown tag {% layout %}'],
    ['unclosed raw', '\n{% raw %}{{ x }}', 'W line 2: raw "{% raw %}{{ x }}" not closed'],
    ['unclosed comment', '{% comment %}', 'W line 1: tag {% comment %} not closed'],
    [
      'for without in',
      '{% for c of issue.comments %}{% endfor %}',
      'W line 1: illegal tag: {% for c of issue.comments %}',
    ],
    ['empty output', 'x {{ }}', 'W line 1: invalid value expression: ""'],
    ['an unexpected character', '{{ repo + 1 }}', 'W line 1: expected "|" before filter'],
  ];
  it.each(cases)('%s', (_name, source, message) => {
    const err = compileError(source);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain('\n');
  });

  it('counts lines from firstLine, for a body after front matter', () => {
    expect(() =>
      compileTemplate('ok\n{{ nope }}', PROMPT_VARIABLES, { sourceName: 'F', firstLine: 10 }),
    ).toThrow(/^F line 11: unknown variable nope/);
    expect(() =>
      compileTemplate('ok\n\n{% if x %}', PROMPT_VARIABLES, { sourceName: 'F', firstLine: 5 }),
    ).toThrow(/^F line 7: tag \{% if x %\} not closed$/);
  });

  it('what only rendering shows is an error with its line too', () => {
    const error = (source: string): string => {
      try {
        render(source);
      } catch (err) {
        if (err instanceof TemplateError) return err.message;
        throw err;
      }
      throw new Error(`rendered without an error: ${source}`);
    };
    expect(error('a\n{{ issue }}')).toBe(
      'W line 2: {{ issue }} inserts an object, which has no text form; insert one of its fields',
    );
    expect(error('{{ issue.comments }}')).toBe(
      'W line 1: {{ issue.comments }} inserts an object, which has no text form; insert one of its fields',
    );
    expect(error('{% for c in issue.comments %}\n{% echo c %}{% endfor %}')).toMatch(
      /^W line 2: \{% echo c %\} inserts an object/,
    );
    // A variable made by assign is known only when rendering.
    expect(error('{% assign t = issue.title %}\n\n{{ t.words }}')).toBe(
      'W line 3: unknown variable t.words',
    );
    // A template runs in kugetsu's process: its memory is bounded.
    expect(
      error(
        '{% assign s = "xxxxxxxxxx" %}\n{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}',
      ),
    ).toBe('W line 2: memory alloc limit exceeded');
  });

  it('without a schema, syntax is checked at compile time and variables when rendering', () => {
    expect(() => compileTemplate('{% for x %}')).toThrow(
      'template line 1: illegal tag: {% for x %}',
    );
    const template = compileTemplate('a\n{{ who.name }}');
    expect(template.render({ who: { name: 'kim' } }).text).toBe('a\nkim');
    expect(() => template.render({ who: { nick: 'k' } })).toThrow(
      'template line 2: unknown variable who.name',
    );
    expect(() => template.render({})).toThrow('template line 2: unknown variable who');
    const inherits = Object.create({ name: 'from the prototype' }) as Record<string, string>;
    expect(() => template.render({ who: inherits })).toThrow(/unknown variable who\.name/);
    expect(() => compileTemplate('{{ who.toString }}').render({ who: {} })).toThrow(
      'template line 1: unknown variable who.toString',
    );
  });

  it('a custom schema is honoured', () => {
    const schema = { user: t.object({ name: t.string, tags: t.list(t.string) }), ok: t.boolean };
    const template = compileTemplate(
      '{{ user.name }}: {{ user.tags | join: "/" }} {{ ok }}',
      schema,
    );
    expect(template.render({ user: { name: 'kim', tags: ['a', 'b'] }, ok: false }).text).toBe(
      'kim: a/b false',
    );
    expect(compileError('{{ user.nme }}', schema).message).toBe(
      'W line 1: unknown variable user.nme (did you mean user.name? known: user.name, user.tags)',
    );
    expect(compileError('{{ ok.size }}', schema).message).toBe(
      'W line 1: unknown variable ok.size: ok is a boolean',
    );
  });

  it('reports what each output inserted, after its filters', () => {
    const template = compileTemplate(
      '{{ repo }}{% if false %}{{ branch }}{% endif %}{{ attempt | plus: 1 }}{% echo issue.labels %}',
      PROMPT_VARIABLES,
    );
    expect(template.render(vars()).inserted).toEqual(['me/app', 2, ['bug', 'ci']]);
  });
});

describe('hostile text in issue values is inserted, never interpreted', () => {
  const hostile = [
    '{{ message }}',
    '{% for c in issue.comments %}LOOP{% endfor %}',
    '{% endif %}{% raw %}{{ branch }}',
    '{{',
    '{%- if true -%}',
    '$(rm -rf /) `id` ${HOME}',
  ].join(' | ');

  it('in the body, a comment, the title, a label and the message', () => {
    const values = vars({
      message: hostile,
      issue: {
        ...vars().issue,
        title: hostile,
        body: hostile,
        labels: [hostile],
        comments: [{ author: hostile, body: hostile, created_at: '' }],
      },
    });
    for (const prompt of [
      renderPrompt(null, values),
      renderPrompt(parseWorkflow(fixture('symphony.md')), values),
    ]) {
      // title, labels, body, author, body — and the message — each appear literally.
      expect(prompt.split(hostile).length - 1).toBe(6);
      expect(prompt).toContain(hostile);
      expect(prompt.split('LOOP').length).toBe(prompt.split(hostile).length);
      expect(prompt).not.toContain('kugetsu/git.example.com-me-app-14 |');
    }
  });

  it('values are never rescanned, even through filters', () => {
    const values = vars({ issue: { ...vars().issue, labels: ['{{ repo }}', '{% if %}'] } });
    expect(render('{{ issue.labels | join: "{{ branch }}" | upcase }}', values)).toBe(
      '{{ REPO }}{{ BRANCH }}{% IF %}',
    );
  });
});

describe('renderPrompt', () => {
  it('the built-in prompt has the ref, title, state, labels, body, comments, message and branch', () => {
    const prompt = renderPrompt(null, vars());
    const inOrder = [
      'git.example.com/me/app#14',
      'Login test is flaky',
      'State: open',
      'Labels: bug, ci',
      'Opened by: alice',
      'https://git.example.com/me/app/issues/14',
      'It fails one run in ten.',
      '## Comments on the issue (2, oldest first)',
      '### bob — 2026-01-02T03:04:05Z',
      'Seen it on main too.',
      '### carol',
      'Timing, I think.',
      '## Your task\n\nfix the flaky login test',
      'on the branch kugetsu/git.example.com-me-app-14 (made from main)',
      'commit your work',
    ];
    let at = -1;
    for (const part of inOrder) {
      const next = prompt.indexOf(part, at + 1);
      expect(next, part).toBeGreaterThan(at);
      at = next;
    }
    expect(prompt).not.toContain('attempt');
    expect(prompt).not.toContain(APPENDED_MESSAGE_HEADING);
    expect(prompt).not.toMatch(/\n\n\n/);
    expect(prompt).toBe(prompt.trim());
  });

  it('the built-in prompt mentions a retry, and leaves out what a git server cannot know', () => {
    expect(renderPrompt(null, vars({ attempt: 2 }))).toContain('This is attempt 2');
    const bare = vars({
      issue: {
        ...vars().issue,
        title: '',
        body: '',
        state: '',
        labels: [],
        url: '',
        author: '',
        comments: [],
      },
    });
    const prompt = renderPrompt(null, bare);
    expect(prompt).toMatch(
      /^You are working on issue git\.example\.com\/me\/app#14\n\n## Your task\n\nfix the flaky login test\n\n## Where you work\n/,
    );
    expect(prompt).not.toContain('## The issue');
    expect(prompt).not.toContain('## Comments');
  });

  it('the built-in prompt, whole, for a forge issue on a retry (as the hand-written engine rendered it)', () => {
    expect(renderPrompt(null, vars({ attempt: 2 }))).toBe(
      [
        'You are working on issue git.example.com/me/app#14: Login test is flaky',
        '',
        'This is attempt 2: an earlier attempt did not finish. Look at what is already in the worktree and its commits before you start.',
        '',
        '## The issue',
        '',
        'State: open',
        'Labels: bug, ci',
        'Opened by: alice',
        'Link: https://git.example.com/me/app/issues/14',
        '',
        'It fails one run in ten.',
        '',
        '## Comments on the issue (2, oldest first)',
        '',
        '### bob — 2026-01-02T03:04:05Z',
        '',
        'Seen it on main too.',
        '',
        '### carol — 2026-01-03T00:00:00Z',
        '',
        'Timing, I think.',
        '',
        '## Your task',
        '',
        'fix the flaky login test',
        '',
        '## Where you work',
        '',
        "You are in your own git worktree of me/app, on the branch kugetsu/git.example.com-me-app-14 (made from main). Make the change there, run the project's tests or checks if it has them, and commit your work on kugetsu/git.example.com-me-app-14 with clear messages: only committed work is handed off. Do not switch branches and do not push; kugetsu hands the branch off when you finish.",
      ].join('\n'),
    );
  });

  it('the built-in prompt with labels but no comments, a body but no state', () => {
    const some = vars({
      issue: { ...vars().issue, state: '', author: '', comments: [], labels: [] },
    });
    expect(renderPrompt(null, some)).toMatch(
      /: Login test is flaky\n\n## The issue\n\nLabels: none\nLink: \S+\n\nIt fails one run in ten\.\n\n## Your task\n/,
    );
    const commentsOnly = vars({ issue: { ...vars().issue, title: '', body: '' } });
    expect(renderPrompt(null, commentsOnly)).toMatch(
      /#14\n\n## The issue\n\nState: open\n[^]*\n\n\(The issue has no description\.\)\n\n## Comments on the issue \(2,/,
    );
  });

  it('the built-in template is checked against the schema like any other', () => {
    expect(() =>
      compileTemplate(BUILT_IN_TEMPLATE, PROMPT_VARIABLES, { sourceName: 'built-in' }),
    ).not.toThrow();
  });

  it('a repository template is used instead of the built-in one', () => {
    const workflow = parseWorkflow(
      '---\nhooks: {}\n---\nTicket {{ issue.number }}: {{ message }}\n',
    );
    expect(renderPrompt(workflow, vars())).toBe('Ticket 14: fix the flaky login test');
  });

  it('appends the message, verbatim, when the template does not insert it', () => {
    const message = '  keep\n  indentation  {{ repo }}';
    const workflow = parseWorkflow('Fix {{ issue.title }}.\n\n');
    expect(renderPrompt(workflow, vars({ message }))).toBe(
      `Fix Login test is flaky.\n\n${APPENDED_MESSAGE_HEADING}\n\n${message}`,
    );
  });

  it('appends the message when the template mentions it only in a branch not taken', () => {
    const workflow = parseWorkflow(
      '{% if attempt > 1 %}{{ message }}{% endif %}{% if message %}has a message{% endif %}',
    );
    expect(renderPrompt(workflow, vars())).toBe(
      `has a message\n\n${APPENDED_MESSAGE_HEADING}\n\nfix the flaky login test`,
    );
    expect(renderPrompt(workflow, vars({ attempt: 2 }))).toBe(
      'fix the flaky login testhas a message',
    );
  });

  it('counts a message given through default as inserted only when default used it', () => {
    const workflow = parseWorkflow('{{ issue.body | default: message }}');
    const empty = vars({ issue: { ...vars().issue, body: '' } });
    expect(renderPrompt(workflow, empty)).toBe('fix the flaky login test');
    expect(renderPrompt(workflow, vars())).toContain(APPENDED_MESSAGE_HEADING);
  });

  it('appends the message when a filter changed it, or it was captured and never printed', () => {
    const appended = `\n\n${APPENDED_MESSAGE_HEADING}\n\nfix the flaky login test`;
    expect(renderPrompt(parseWorkflow('Do: {{ message | upcase }}'), vars())).toBe(
      `Do: FIX THE FLAKY LOGIN TEST${appended}`,
    );
    expect(
      renderPrompt(parseWorkflow('{% capture m %}{{ message }}{% endcapture %}Fix it.'), vars()),
    ).toBe(`Fix it.${appended}`);
    expect(
      renderPrompt(
        parseWorkflow('{% capture m %}{{ message }}{% endcapture %}Do: {{ m }}'),
        vars(),
      ),
    ).toBe('Do: fix the flaky login test');
    expect(renderPrompt(parseWorkflow('{% echo message %}'), vars())).toBe(
      'fix the flaky login test',
    );
  });

  it('appends nothing for an empty message', () => {
    expect(renderPrompt(parseWorkflow('Fix it.'), vars({ message: '  ' }))).toBe('Fix it.');
  });
});

describe('a WORKFLOW.md written for Symphony', () => {
  const workflow = parseWorkflow(fixture('symphony-linear.md'));
  const appended = `\n\n${APPENDED_MESSAGE_HEADING}\n\nfix the flaky login test`;

  it("parses, keeping Symphony's settings and running its hooks", () => {
    expect(workflow.config).toMatchObject({
      tracker: { kind: 'linear', active_states: ['Todo', 'In Progress'] },
      codex: { approval_policy: 'never', turn_sandbox_policy: { type: 'workspaceWrite' } },
    });
    expect(Object.keys(workflow.hooks.scripts)).toEqual(['after_create', 'before_remove']);
  });

  it("renders as Symphony renders it, with its names for kugetsu's fields", () => {
    expect(renderPrompt(workflow, vars({ attempt: 2 }))).toBe(
      [
        'You are working on a ticket `git.example.com/me/app#14`',
        '',
        '',
        'Follow-up context:',
        '',
        '- This is follow-up attempt #2.',
        '- Resume from the current workspace state instead of restarting from scratch.',
        '  ',
        '',
        'Issue context:',
        'Identifier: git.example.com/me/app#14',
        'Title: Login test is flaky',
        'Current status: open',
        'Labels: bugci',
        'URL: https://git.example.com/me/app/issues/14',
        '',
        'Description:',
        '',
        'It fails one run in ten.',
        '',
        '',
        'Instructions:',
        '',
        '1. This is an unattended session. Do not ask a human to perform follow-up actions.',
        '2. Work only in the provided repository copy.',
      ].join('\n') + appended,
    );
  });

  it("issue.description is nil for an empty body, as Symphony's trackers give it", () => {
    const empty = vars({ issue: { ...vars().issue, body: '' } });
    expect(renderPrompt(workflow, empty)).toContain('Description:\n\nNo description provided.\n');
    expect(renderPrompt(parseWorkflow('[{{ issue.description }}]'), empty)).toBe(`[]${appended}`);
    expect(renderPrompt(parseWorkflow('{{ issue.identifier }} {{ issue.id }}'), vars())).toBe(
      `git.example.com/me/app#14 14${appended}`,
    );
  });

  it("differs on the first run: kugetsu's attempt is 1 there, Symphony's is nil", () => {
    expect(renderPrompt(workflow, vars({ attempt: 1 }))).toContain(
      'Follow-up context:\n\n- This is follow-up attempt #1.',
    );
  });

  it('a Symphony field kugetsu does not have fails the parse, naming it', () => {
    expect(() => parseWorkflow('Due {{ issue.priority }}')).toThrow(
      /^\.kugetsu\/WORKFLOW\.md line 1: unknown variable issue\.priority \(/,
    );
  });
});
