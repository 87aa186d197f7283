/**
 * `.kugetsu/WORKFLOW.md`: front matter, the strict template language, and the prompt built
 * from it (pure; no processes).
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
  DEFAULT_HOOK_TIMEOUT_MS,
  PROMPT_VARIABLES,
  type PromptVariables,
  WorkflowError,
  parseWorkflow,
  renderPrompt,
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
      '.kugetsu/WORKFLOW.md line 8: unknown variable issue.titel (did you mean issue.title? known: issue.ref, issue.number, issue.title, issue.body, issue.state, issue.labels, issue.url, issue.author, issue.comments)',
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

describe('the template language', () => {
  it('inserts dotted paths, numbers and lists of strings as text, without escaping', () => {
    expect(render('{{ issue.title }} #{{issue.number}} [{{ issue.labels }}] {{ repo }}')).toBe(
      'Login test is flaky #14 [bug, ci] me/app',
    );
    const html = vars({ message: '<b>&amp;</b> "q"' });
    expect(render('{{ message }}', html)).toBe('<b>&amp;</b> "q"');
  });

  it('if / elsif / else / unless, with comparisons and and/or', () => {
    const tpl =
      '{% if issue.labels %}labels{% else %}none{% endif %}|' +
      '{% if attempt > 2 %}late{% elsif attempt == 2 %}second{% else %}first{% endif %}|' +
      '{% unless issue.comments %}quiet{% else %}talk{% endunless %}|' +
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

  it('empty strings and empty lists are false; numbers are true', () => {
    const empty = vars({ issue: { ...vars().issue, body: '', labels: [] }, attempt: 0 });
    expect(
      render(
        '{% if issue.body %}b{% endif %}{% if issue.labels %}l{% endif %}{% if attempt %}n{% endif %}',
        empty,
      ),
    ).toBe('n');
  });

  it('for loops, with forloop and for-else', () => {
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
  });

  it('filters: join, default, size, first, last, upcase, downcase, strip', () => {
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
});

describe('template errors name the problem and its line', () => {
  const cases: [name: string, source: string, message: string][] = [
    [
      'unknown variable',
      'line 1\n\n{{ issue.titel }}',
      'W line 3: unknown variable issue.titel (did you mean issue.title? known: issue.ref, issue.number, issue.title, issue.body, issue.state, issue.labels, issue.url, issue.author, issue.comments)',
    ],
    [
      'an inherited property is not a field',
      '{{ issue.constructor }}{{ issue.__proto__ }}',
      'W line 1: unknown variable issue.constructor (known: issue.ref, issue.number, issue.title, issue.body, issue.state, issue.labels, issue.url, issue.author, issue.comments)',
    ],
    [
      'unknown root variable',
      '{{ mesage }}',
      'W line 1: unknown variable mesage (did you mean message? known: issue, message, branch, repo, default_branch, attempt)',
    ],
    [
      'unknown variable inside a branch never taken',
      '{% if false %}\n{{ issue.nope }}\n{% endif %}',
      'W line 2: unknown variable issue.nope (known: issue.ref, issue.number, issue.title, issue.body, issue.state, issue.labels, issue.url, issue.author, issue.comments)',
    ],
    [
      'unknown variable in a condition',
      '\n{% if issue.labelz %}x{% endif %}',
      'W line 2: unknown variable issue.labelz (did you mean issue.labels? known: issue.ref, issue.number, issue.title, issue.body, issue.state, issue.labels, issue.url, issue.author, issue.comments)',
    ],
    [
      'unknown field of a loop variable',
      '{% for c in issue.comments %}\n{{ c.user }}{% endfor %}',
      'W line 2: unknown variable c.user (known: c.author, c.body, c.created_at)',
    ],
    [
      'loop variable used after its loop',
      '{% for c in issue.comments %}{% endfor %}\n{{ c.body }}',
      'W line 2: unknown variable c (known: issue, message, branch, repo, default_branch, attempt)',
    ],
    [
      'forloop outside a loop',
      '{{ forloop.index }}',
      'W line 1: unknown variable forloop (known: issue, message, branch, repo, default_branch, attempt)',
    ],
    [
      'field of a string',
      '{{ issue.title.size }}',
      'W line 1: unknown variable issue.title.size: issue.title is a string',
    ],
    [
      'field of a list',
      '{{ issue.labels.size }}',
      'W line 1: unknown variable issue.labels.size: issue.labels is a list of strings (use a filter: | size, | first, | last)',
    ],
    [
      'inserting an object',
      '{{ issue }}',
      'W line 1: issue is an object and cannot be inserted as text',
    ],
    [
      'inserting a list of objects',
      '{{ issue.comments }}',
      'W line 1: issue.comments is a list of objects and cannot be inserted as text; loop over it with {% for … in issue.comments %}',
    ],
    [
      'looping over a string',
      '\n\n{% for c in issue.title %}{% endfor %}',
      'W line 3: cannot loop over issue.title: it is a string, not a list',
    ],
    [
      'loop variable hiding a variable',
      '{% for issue in issue.comments %}{% endfor %}',
      'W line 1: the loop variable issue hides the variable of that name; choose another',
    ],
    [
      'unknown filter',
      '\n{{ issue.title | upper }}',
      'W line 2: unknown filter upper (known: default, downcase, first, join, last, size, strip, upcase)',
    ],
    [
      'filter without its argument',
      '{{ issue.body | default }}',
      'W line 1: filter default takes 1 argument, not 0',
    ],
    [
      'filter with too many',
      '{{ issue.labels | join: ",", ";" }}',
      'W line 1: filter join takes 0 or 1 argument, not 2',
    ],
    [
      'filter on the wrong type',
      '{{ issue.title | join: ", " }}',
      'W line 1: filter join needs a list of strings or numbers, but gets a string',
    ],
    [
      'join on objects',
      '{{ issue.comments | join }}',
      'W line 1: filter join needs a list of strings or numbers, but gets a list of objects',
    ],
    [
      'upcase on a number',
      '{{ attempt | upcase }}',
      'W line 1: filter upcase needs a string, but gets a number',
    ],
    [
      'unclosed output',
      'a\n{{ issue.title\nmore text {{ repo }}',
      'W line 2: {{ is not closed (expected }} before the next tag or the end)',
    ],
    [
      'unclosed output at the end',
      'a {{ issue.title',
      'W line 1: {{ is not closed (expected }} before the next tag or the end)',
    ],
    [
      'output closed as a tag',
      '{{ issue.title %}',
      'W line 1: {{ is not closed (expected }} before the next tag or the end)',
    ],
    [
      'unclosed tag',
      '\n{% if issue.title',
      'W line 2: {% is not closed (expected %} before the next tag or the end)',
    ],
    ['empty output', 'x {{ }}', 'W line 1: empty {{ }}'],
    [
      'unclosed if',
      'a\n{% if issue.title %}\nb',
      'W line 2: {% if %} is never closed (expected {% endif %})',
    ],
    [
      'unclosed for inside if',
      '{% if issue.title %}\n{% for c in issue.comments %}\n{% endif %}',
      'W line 3: {% endif %} closes {% for %} opened at line 2 (expected {% endfor %})',
    ],
    ['stray endfor', 'a\n\n{% endfor %}', 'W line 3: {% endfor %} without an open {% for %}'],
    ['stray endif', '{% endif %}', 'W line 1: {% endif %} without an open {% if %}'],
    ['stray endraw', '{% endraw %}', 'W line 1: {% endraw %} without an open {% raw %}'],
    ['stray else', '\n{% else %}', 'W line 2: {% else %} outside an {% if %} or {% for %}'],
    ['stray elsif', '{% elsif x %}', 'W line 1: {% elsif %} outside an {% if %}'],
    [
      'elsif after else',
      '{% if repo %}{% else %}\n{% elsif repo %}{% endif %}',
      'W line 2: {% elsif %} after {% else %} (opened at line 1)',
    ],
    [
      'second else',
      '{% if repo %}{% else %}\n{% else %}{% endif %}',
      'W line 2: a second {% else %} for the tag at line 1',
    ],
    [
      'unknown tag',
      '\n{% include "x" %}',
      'W line 2: unknown tag {% include %} (known: if, elsif, else, endif, unless, endunless, for, endfor, raw, comment)',
    ],
    [
      'unknown end tag',
      '{% endcase %}',
      'W line 1: unknown tag {% endcase %} (known: if, elsif, else, endif, unless, endunless, for, endfor, raw, comment)',
    ],
    [
      'unclosed raw',
      '\n{% raw %}{{ x }}',
      'W line 2: {% raw %} is never closed (expected {% endraw %})',
    ],
    [
      'unclosed comment',
      '{% comment %}',
      'W line 1: {% comment %} is never closed (expected {% endcomment %})',
    ],
    [
      'for without in',
      '{% for c of issue.comments %}{% endfor %}',
      'W line 1: expected {% for c in … %}',
    ],
    ['if without a condition', '{% if %}{% endif %}', 'W line 1: expected a condition'],
    ['junk after an expression', '{{ repo branch }}', 'W line 1: unexpected branch in {{ … }}'],
    [
      'junk in else',
      '{% if repo %}{% else x %}{% endif %}',
      'W line 1: unexpected x in {% else %}',
    ],
    ['an unexpected character', '{{ repo + 1 }}', 'W line 1: unexpected "+" in {{ … }}'],
    [
      'indexing',
      '{{ issue.labels[0] }}',
      'W line 1: indexing with [ ] is not supported (use | first or | last, or a for loop)',
    ],
    ['a trailing dot', '{{ issue. }}', 'W line 1: issue. is not a variable name'],
    [
      'an unclosed string',
      '{{ issue.body | default: "x }}\n"',
      'W line 1: a string opened with " is not closed on its line',
    ],
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
  });

  it('without a schema, syntax is checked at compile time and variables when rendering', () => {
    expect(() => compileTemplate('{% for x %}')).toThrow(
      'template line 1: expected in after the loop variable, found the end of the tag',
    );
    const template = compileTemplate('a\n{{ who.name }}');
    expect(template.render({ who: { name: 'kim' } }).text).toBe('a\nkim');
    expect(() => template.render({ who: { nick: 'k' } })).toThrow(
      'template line 2: unknown variable who.name (known: who.nick)',
    );
    expect(() => template.render({})).toThrow('template line 2: unknown variable who (known: )');
    const inherits = Object.create({ name: 'from the prototype' }) as Record<string, string>;
    expect(() => template.render({ who: inherits })).toThrow(/unknown variable who\.name/);
    expect(() => compileTemplate('{{ who.toString }}').render({ who: {} })).toThrow(
      'template line 1: unknown variable who.toString (known: )',
    );
    expect(() => compileTemplate('{{ x }}').render({ x: { a: 1 } })).toThrow(
      'template line 1: x is an object and cannot be inserted as text',
    );
    expect(() => compileTemplate('{% for i in x %}{% endfor %}').render({ x: 'abc' })).toThrow(
      'template line 1: cannot loop over x: it is not a list',
    );
    expect(() => compileTemplate('{{ x | join }}').render({ x: 3 })).toThrow(
      'template line 1: filter join needs a list, but gets 3',
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

  it('appends nothing for an empty message', () => {
    expect(renderPrompt(parseWorkflow('Fix it.'), vars({ message: '  ' }))).toBe('Fix it.');
  });
});
