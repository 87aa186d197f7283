/**
 * Issue references (DESIGN.md §2): parsing what a user typed into `host/owner/repo#N`, and the
 * workspace key derived from it. Pure: no I/O. Every part of a ref later becomes part of a path
 * (`worktrees/<key>`, `repos/…`) or a git argument, so validation is strict and allow-listed.
 */
import { UsageError, quote } from './errors.js';

export interface IssueRef {
  host: string;
  /** May contain `/` for GitLab subgroups (`group/sub`). */
  owner: string;
  repo: string;
  number: number;
}

export interface RefDefaults {
  defaultHost?: string | undefined;
  defaultRepo?: { host: string; owner: string; repo: string } | undefined;
}

// Checked before any regex runs, so no input can make parsing slow.
const MAX_REF_LENGTH = 2048;
const MAX_ISSUE_NUMBER = 2 ** 31 - 1;

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const HOST = /^[A-Za-z0-9._-]+(?::[0-9]{1,5})?$/;
const NUMBER = /^[1-9][0-9]{0,9}$/;
const URL_PREFIX = /^https?:\/\//i;
const ISSUE_KINDS = new Set(['issues', 'pulls', 'pull', 'merge_requests']);

function invalid(input: string): UsageError {
  return new UsageError(
    `invalid issue ref ${quote(input)}: expected host/owner/repo#N, an issue URL, owner/repo#N or #N`,
  );
}

function isSegment(s: string): boolean {
  return SEGMENT.test(s) && s !== '.' && s !== '..';
}

function isHost(s: string): boolean {
  const name = s.split(':', 1)[0] ?? '';
  return HOST.test(s) && name !== '.' && name !== '..';
}

function parseNumber(s: string): number | null {
  if (!NUMBER.test(s)) return null;
  const n = Number(s);
  return n <= MAX_ISSUE_NUMBER ? n : null;
}

/** `[host, ...owner, repo]` → parts, or null when any segment is not allowed. */
function splitRepoPath(
  segments: string[],
  withHost: boolean,
): { host: string | null; owner: string; repo: string } | null {
  const host = withHost ? segments[0] : undefined;
  const rest = withHost ? segments.slice(1) : segments;
  if (host !== undefined && !isHost(host)) return null;
  if (rest.length < 2 || !rest.every(isSegment)) return null;
  const repo = rest[rest.length - 1] as string;
  return { host: host ?? null, owner: rest.slice(0, -1).join('/'), repo };
}

function parseUrl(input: string): IssueRef | null {
  let rest = input.replace(URL_PREFIX, '');
  const cut = rest.search(/[?#]/);
  if (cut >= 0) rest = rest.slice(0, cut);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  const segments = rest.split('/');
  const number = parseNumber(segments.pop() ?? '');
  const kind = segments.pop();
  if (number === null || kind === undefined || !ISSUE_KINDS.has(kind)) return null;
  // GitLab puts its own routes after a `-` segment: `group/sub/repo/-/issues/N`.
  if (segments[segments.length - 1] === '-') segments.pop();
  const parts = splitRepoPath(segments, true);
  if (parts === null || parts.host === null) return null;
  return { host: parts.host, owner: parts.owner, repo: parts.repo, number };
}

/**
 * Parses every form of DESIGN.md §2. Throws UsageError for anything else, and a more specific
 * one when a short form is well-formed but the default it needs is not configured.
 */
export function parseIssueRef(input: string, defaults: RefDefaults): IssueRef {
  if (input.length > MAX_REF_LENGTH) throw invalid(input);
  const text = input.trim();

  if (URL_PREFIX.test(text)) {
    const ref = parseUrl(text);
    if (ref === null) throw invalid(input);
    return ref;
  }

  const hash = text.indexOf('#');
  if (hash < 0) throw invalid(input);
  const number = parseNumber(text.slice(hash + 1));
  if (number === null) throw invalid(input);
  const path = text.slice(0, hash);

  if (path === '') {
    const repo = defaults.defaultRepo;
    if (repo === undefined) {
      throw new UsageError(
        `issue ref ${quote(input)} needs a default repo: set KUGETSU_DEFAULT_REPO or pass host/owner/repo#N`,
      );
    }
    return { host: repo.host, owner: repo.owner, repo: repo.repo, number };
  }

  const segments = path.split('/');
  if (segments.length === 2) {
    const parts = splitRepoPath(segments, false);
    if (parts === null) throw invalid(input);
    const host = defaults.defaultHost;
    if (host === undefined) {
      throw new UsageError(
        `issue ref ${quote(input)} has no host and there is no default server: set KUGETSU_DEFAULT_SERVER or pass host/owner/repo#N`,
      );
    }
    return { host, owner: parts.owner, repo: parts.repo, number };
  }

  const parts = splitRepoPath(segments, true);
  if (parts === null || parts.host === null) throw invalid(input);
  return { host: parts.host, owner: parts.owner, repo: parts.repo, number };
}

export function formatIssueRef(ref: IssueRef): string {
  return `${ref.host}/${ref.owner}/${ref.repo}#${ref.number}`;
}

/**
 * `host-owner-repo-N` made safe as one path component. It always contains `-` and digits, so it
 * is never `.` or `..`, and `/` cannot survive the replacement.
 */
export function workspaceKey(ref: IssueRef): string {
  return `${ref.host}-${ref.owner}-${ref.repo}-${ref.number}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

const LEADING_PUNCTUATION = /^\(+/;
const TRAILING_PUNCTUATION = /[.,;:!?)]+$/;

/**
 * The first whitespace-delimited token of free text that is an issue ref. Short forms count only
 * when their default is configured, so prose like "#1 priority" is not mistaken for a ref.
 */
export function findIssueRefInText(
  text: string,
  defaults: RefDefaults,
): { ref: IssueRef; raw: string } | null {
  for (const token of text.split(/\s+/)) {
    if (token.length === 0 || token.length > MAX_REF_LENGTH) continue;
    const raw = token.replace(LEADING_PUNCTUATION, '').replace(TRAILING_PUNCTUATION, '');
    if (!raw.includes('#') && !URL_PREFIX.test(raw)) continue;
    try {
      return { ref: parseIssueRef(raw, defaults), raw };
    } catch {
      // Not a ref (or a short form without its default): keep looking.
    }
  }
  return null;
}

/** The issue number of a ref kugetsu normalised and stored (`host/owner/repo#N`). */
export function issueNumberOf(issueRef: string): number {
  return parseIssueRef(issueRef, {}).number;
}

/** Parses KUGETSU_DEFAULT_REPO: `host/owner/repo`, or `owner/repo` on the default server. */
export function parseRepoSpec(
  spec: string,
  defaultHost?: string,
): { host: string; owner: string; repo: string } {
  const text = spec.length > MAX_REF_LENGTH ? '' : spec.trim();
  const segments = text.split('/');
  const parts =
    segments.length === 2 ? splitRepoPath(segments, false) : splitRepoPath(segments, true);
  if (parts === null) {
    throw new UsageError(
      `invalid KUGETSU_DEFAULT_REPO=${quote(spec)}: expected host/owner/repo or owner/repo`,
    );
  }
  const host = parts.host ?? defaultHost;
  if (host === undefined) {
    throw new UsageError(
      `KUGETSU_DEFAULT_REPO=${quote(spec)} has no host and there is no default server: use host/owner/repo or set KUGETSU_DEFAULT_SERVER`,
    );
  }
  return { host, owner: parts.owner, repo: parts.repo };
}
