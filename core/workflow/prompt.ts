/**
 * The agent's prompt: the variables a template may use (kugetsu's and Symphony's names for
 * them), kugetsu's built-in template for a repository without WORKFLOW.md, and the render that
 * makes sure the user's message reaches the agent.
 */
import {
  type TemplateValue,
  type VariableSchema,
  compileTemplate,
  templateTypes as t,
} from './prompt-template.js';
import type { Workflow } from './workflow.js';

/** What a prompt template may use. Types are aliases (not interfaces) so they are template values. */
export type PromptComment = { author: string; body: string; created_at: string };
export type PromptIssue = {
  /** `host/owner/repo#N` */
  ref: string;
  number: number;
  title: string;
  body: string;
  state: string;
  labels: string[];
  url: string;
  author: string;
  comments: PromptComment[];
};
export type PromptVariables = {
  issue: PromptIssue;
  /** The user's message for this task, verbatim. */
  message: string;
  /** The agent's branch, `kugetsu/<workspace-key>`. */
  branch: string;
  /** `owner/repo` */
  repo: string;
  default_branch: string;
  /** 1-based: 1 on the first run (Symphony's is nil there, and 1 on the first retry). */
  attempt: number;
};

/**
 * Symphony's names for kugetsu's issue fields, so a WORKFLOW.md written for Symphony renders:
 * `issue.identifier` is the ref, `issue.id` the number as text (as Symphony's GitHub and GitLab
 * trackers give it), and `issue.description` the body — nil when it is empty, as Symphony's
 * trackers give it, so `{% if issue.description %}` means "has a description" there and here.
 */
function withSymphonyNames(vars: PromptVariables): Record<string, TemplateValue> {
  const { issue } = vars;
  return {
    ...vars,
    issue: {
      ...issue,
      identifier: issue.ref,
      id: String(issue.number),
      description: issue.body === '' ? null : issue.body,
    },
  };
}

/**
 * The schema templates are checked against: {@link PromptVariables}, field for field, and
 * Symphony's names for issue fields (see withSymphonyNames).
 */
export const PROMPT_VARIABLES: VariableSchema = {
  issue: t.object({
    ref: t.string,
    number: t.number,
    title: t.string,
    body: t.string,
    state: t.string,
    labels: t.list(t.string),
    url: t.string,
    author: t.string,
    comments: t.list(t.object({ author: t.string, body: t.string, created_at: t.string })),
    identifier: t.string,
    id: t.string,
    description: t.string,
  }),
  message: t.string,
  branch: t.string,
  repo: t.string,
  default_branch: t.string,
  attempt: t.number,
};

/**
 * kugetsu's own prompt, used when a repository has no WORKFLOW.md. Empty fields are left out
 * (a `git` server has no issue API: no title, state, labels or comments). Liquid: `""` and `[]`
 * are true, so emptiness is tested with `!= blank` and `.size > 0`.
 */
export const BUILT_IN_TEMPLATE = `You are working on issue {{ issue.ref }}{% if issue.title != blank %}: {{ issue.title }}{% endif %}
{%- if attempt > 1 %}

This is attempt {{ attempt }}: an earlier attempt did not finish. Look at what is already in the worktree and its commits before you start.
{%- endif %}
{%- if issue.title != blank or issue.body != blank or issue.comments.size > 0 %}

## The issue

{% if issue.state != blank %}State: {{ issue.state }}
{% endif -%}
Labels: {{ issue.labels | join: ", " | default: "none" }}
{%- if issue.author != blank %}
Opened by: {{ issue.author }}
{%- endif %}
{%- if issue.url != blank %}
Link: {{ issue.url }}
{%- endif %}

{{ issue.body | default: "(The issue has no description.)" }}
{%- endif %}
{%- if issue.comments.size > 0 %}

## Comments on the issue ({{ issue.comments.size }}, oldest first)
{%- for comment in issue.comments %}

### {{ comment.author }}{% if comment.created_at != blank %} — {{ comment.created_at }}{% endif %}

{{ comment.body }}
{%- endfor %}
{%- endif %}

## Your task

{{ message }}

## Where you work

You are in your own git worktree of {{ repo }}, on the branch {{ branch }} (made from {{ default_branch }}). Make the change there, run the project's tests or checks if it has them, and commit your work on {{ branch }} with clear messages: only committed work is handed off. Do not switch branches and do not push; kugetsu hands the branch off when you finish.`;

const builtIn = compileTemplate(BUILT_IN_TEMPLATE, PROMPT_VARIABLES, {
  sourceName: 'the built-in prompt',
});

/** The heading under which the user's message is appended when a template leaves it out. */
export const APPENDED_MESSAGE_HEADING = '## Message from the user';

/**
 * The agent's prompt: the repository's template, or kugetsu's built-in one when `workflow` is
 * null. Throws TemplateError for a template that fails while rendering (a variable made by
 * `assign` that lacks a field, an object inserted as text, a render limit).
 *
 * The user's message always reaches the agent verbatim: unless a `{{ }}` inserted exactly the
 * message in this render and it is in the prompt, it is appended under
 * {@link APPENDED_MESSAGE_HEADING}. So a template that never mentions `message`, mentions it
 * only in a branch not taken, changes it with a filter (`{{ message | upcase }}`) or captures
 * it without printing the capture gets it appended. A user who typed an instruction expects the
 * agent to see it, whatever the repository's template author forgot.
 */
export function renderPrompt(workflow: Workflow | null, vars: PromptVariables): string {
  const template = workflow?.template ?? builtIn;
  const { text, inserted } = template.render(withSymphonyNames(vars));
  const prompt = text.trim();
  const { message } = vars;
  const inPrompt = inserted.includes(message) && text.includes(message);
  if (inPrompt || message.trim() === '') return prompt;
  return `${prompt}\n\n${APPENDED_MESSAGE_HEADING}\n\n${message}`;
}
