import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import {
  findIssueRefInText,
  formatIssueRef,
  parseIssueRef,
  parseRepoSpec,
  workspaceKey,
  type IssueRef,
  type RefDefaults,
} from '../core/issue-ref.js';

const NONE: RefDefaults = {};
const DEFAULTS: RefDefaults = {
  defaultHost: 'git.example.com',
  defaultRepo: { host: 'git.example.com', owner: 'me', repo: 'app' },
};

function parsed(input: string, defaults: RefDefaults = NONE): string {
  return formatIssueRef(parseIssueRef(input, defaults));
}

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseIssueRef: accepted forms', () => {
  it.each([
    ['git.example.com/me/app#14', 'git.example.com/me/app#14'],
    ['  git.example.com/me/app#14\n', 'git.example.com/me/app#14'],
    ['localhost:3000/me/app#1', 'localhost:3000/me/app#1'],
    ['local/me/app#2', 'local/me/app#2'],
    ['gitlab.com/group/sub/app#3', 'gitlab.com/group/sub/app#3'],
    ['h/o.r_g-1/re.po_2-x#2147483647', 'h/o.r_g-1/re.po_2-x#2147483647'],
    ['https://git.example.com/me/app/issues/14', 'git.example.com/me/app#14'],
    ['http://git.example.com/me/app/issues/14', 'git.example.com/me/app#14'],
    ['HTTPS://git.example.com/me/app/issues/14', 'git.example.com/me/app#14'],
    ['https://git.example.com/me/app/pulls/15', 'git.example.com/me/app#15'],
    ['https://github.com/me/app/pull/16', 'github.com/me/app#16'],
    ['https://gitlab.com/me/app/-/issues/17', 'gitlab.com/me/app#17'],
    ['https://gitlab.com/group/sub/app/-/merge_requests/18', 'gitlab.com/group/sub/app#18'],
    ['https://git.example.com/me/app/issues/14/', 'git.example.com/me/app#14'],
    ['https://git.example.com/me/app/issues/14#issuecomment-99', 'git.example.com/me/app#14'],
    ['https://git.example.com/me/app/issues/14?tab=files', 'git.example.com/me/app#14'],
    ['https://git.example.com/me/app/issues/14/?x=1#y', 'git.example.com/me/app#14'],
    ['http://localhost:3000/me/app/issues/7', 'localhost:3000/me/app#7'],
  ])('%j → %s', (input, expected) => {
    expect(parsed(input)).toBe(expected);
  });

  it('splits host, owner (with subgroups), repo and number', () => {
    expect(parseIssueRef('https://gitlab.com/a/b/c/-/issues/9', NONE)).toEqual({
      host: 'gitlab.com',
      owner: 'a/b',
      repo: 'c',
      number: 9,
    });
  });

  it('owner/repo#N takes the default host', () => {
    expect(parseIssueRef('you/lib#3', DEFAULTS)).toEqual({
      host: 'git.example.com',
      owner: 'you',
      repo: 'lib',
      number: 3,
    });
  });

  it('#N takes the default repo', () => {
    expect(parsed('#14', DEFAULTS)).toBe('git.example.com/me/app#14');
    expect(parsed(' #1 ', DEFAULTS)).toBe('git.example.com/me/app#1');
  });
});

describe('parseIssueRef: missing defaults', () => {
  it('owner/repo#N without a default server names KUGETSU_DEFAULT_SERVER', () => {
    const err = usageError(() => parseIssueRef('me/app#14', NONE));
    expect(err.message).toContain('KUGETSU_DEFAULT_SERVER');
    expect(err.message).toContain('host/owner/repo#N');
    expect(err.message).toContain('"me/app#14"');
  });

  it('#N without a default repo names KUGETSU_DEFAULT_REPO', () => {
    const err = usageError(() => parseIssueRef('#14', { defaultHost: 'h' }));
    expect(err.message).toContain('KUGETSU_DEFAULT_REPO');
  });

  it('a malformed short form is reported as malformed, not as a missing default', () => {
    expect(usageError(() => parseIssueRef('#0', NONE)).message).toMatch(/^invalid issue ref/);
    expect(usageError(() => parseIssueRef('me/..#1', NONE)).message).toMatch(/^invalid issue ref/);
  });
});

describe('parseIssueRef: rejected input', () => {
  it.each([
    '',
    '   ',
    '#',
    'git.example.com/me/app',
    'git.example.com/me/app#',
    'git.example.com/me/app#0',
    'git.example.com/me/app#-1',
    'git.example.com/me/app#01',
    '#01',
    '#1.5',
    'git.example.com/me/app#2147483648',
    'git.example.com/me/app#99999999999999999999',
    'git.example.com/me/app#14; rm -rf /',
    'git.example.com/me/app #14',
    'git.example.com/me/app##14',
    'git.example.com/me/app#1#2',
    'host/../etc#1',
    'host/owner/..#1',
    'host/./repo#1',
    '../owner/repo#1',
    '../../x#1',
    'host//repo#1',
    '/owner/repo#1',
    'host/owner/repo/#1',
    'host/owner/re po#1',
    'host/owner/re\\po#1',
    'host/owner/repo%2F..#1',
    'host/ow$ner/repo#1',
    'host/owner/$(touch /tmp/pwned)#1',
    '$(touch /tmp/pwned)',
    '`id`/x/y#1',
    'host:99999999/owner/repo#1',
    'host:/owner/repo#1',
    'ho:st:1/owner/repo#1',
    'https://git.example.com/me/app',
    'https://git.example.com/me/app/issues',
    'https://git.example.com/me/app/issues/0',
    'https://git.example.com/me/app/issues/01',
    'https://git.example.com/me/app/issues/14x',
    'https://git.example.com/me/app/commits/14',
    'https://git.example.com/app/issues/14',
    'https://git.example.com/../app/issues/14',
    'https://git.example.com/me/../issues/14',
    'https://git.example.com/me/app/issues/14//',
    'https://user:pw@git.example.com/me/app/issues/14',
    'https://git.example.com?x=/me/app/issues/14',
    'https:///me/app/issues/14',
    'ftp://git.example.com/me/app/issues/14',
    'file:///srv/git/me/app/issues/14',
    'javascript:alert(1)#1',
    'me/app#14\nrm -rf /',
  ])('rejects %j', (input) => {
    const err = usageError(() => parseIssueRef(input, DEFAULTS));
    expect(err.message).toMatch(/^invalid issue ref /);
    expect(err.message).toContain('expected host/owner/repo#N, an issue URL, owner/repo#N or #N');
    expect(err.message).not.toContain('\n');
  });

  it('quotes the input in the message', () => {
    const err = usageError(() => parseIssueRef('host/../etc#1', NONE));
    expect(err.message).toBe(
      'invalid issue ref "host/../etc#1": expected host/owner/repo#N, an issue URL, owner/repo#N or #N',
    );
  });

  it('rejects a 1 MB string quickly, quoting only a truncated prefix', () => {
    const huge = `git.example.com/${'a/'.repeat(512 * 1024)}#1`;
    const started = performance.now();
    const err = usageError(() => parseIssueRef(huge, DEFAULTS));
    expect(performance.now() - started).toBeLessThan(50);
    expect(err.message.length).toBeLessThan(300);
    expect(err.message).toContain('"git.example.com/a/a/');
    expect(err.message).toContain('…');
  });

  it('rejects pathological near-misses quickly', () => {
    const inputs = [
      `https://h/${'a/'.repeat(1000)}`,
      `${'a'.repeat(2000)}#`,
      `h/${'/'.repeat(2000)}#1`,
    ];
    const started = performance.now();
    for (const input of inputs) usageError(() => parseIssueRef(input, DEFAULTS));
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('formatIssueRef', () => {
  it('round-trips through parseIssueRef', () => {
    const ref: IssueRef = { host: 'localhost:3000', owner: 'g/s', repo: 'r.x', number: 42 };
    expect(formatIssueRef(ref)).toBe('localhost:3000/g/s/r.x#42');
    expect(parseIssueRef(formatIssueRef(ref), NONE)).toEqual(ref);
  });
});

describe('workspaceKey', () => {
  it('is host-owner-repo-N', () => {
    expect(workspaceKey(parseIssueRef('git.example.com/me/app#14', NONE))).toBe(
      'git.example.com-me-app-14',
    );
  });

  it('replaces / in owners and : in hosts with _', () => {
    expect(
      workspaceKey({ host: 'localhost:3000', owner: 'group/sub', repo: 'app', number: 1 }),
    ).toBe('localhost_3000-group_sub-app-1');
  });

  it('is one safe path component for every accepted ref', () => {
    const inputs = [
      'localhost:3000/a/b/c/d#1',
      'https://gitlab.com/x/y/z/-/merge_requests/5',
      'h/../x#1',
      '../a/b#1',
      'h/.../....#1',
      'https://h/../../issues/1',
      'h/.a/..b#1',
    ];
    for (const input of inputs) {
      let key: string;
      try {
        key = workspaceKey(parseIssueRef(input, DEFAULTS));
      } catch {
        continue;
      }
      expect(key).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(key).not.toContain('/');
      expect(key).not.toBe('.');
      expect(key).not.toBe('..');
    }
    // Even a ref built by hand, bypassing the parser, cannot escape.
    const hostile = workspaceKey({ host: '..', owner: '../..', repo: '..', number: 1 });
    expect(hostile).not.toContain('/');
    expect(hostile).not.toBe('..');
  });
});

describe('findIssueRefInText', () => {
  it('finds a full ref inside prose', () => {
    const found = findIssueRefInText('work on git.example.com/me/app#14 please', NONE);
    expect(found?.raw).toBe('git.example.com/me/app#14');
    expect(found && formatIssueRef(found.ref)).toBe('git.example.com/me/app#14');
  });

  it('strips surrounding punctuation', () => {
    expect(findIssueRefInText('(see git.example.com/me/app#14).', NONE)?.raw).toBe(
      'git.example.com/me/app#14',
    );
    expect(findIssueRefInText('fix h/o/r#2, then rest!', NONE)?.ref.number).toBe(2);
    expect(findIssueRefInText('is it h/o/r#3?', NONE)?.ref.number).toBe(3);
  });

  it('finds URLs', () => {
    const found = findIssueRefInText(
      'look at https://gitlab.com/g/s/app/-/issues/8: it is broken',
      NONE,
    );
    expect(found?.ref).toEqual({ host: 'gitlab.com', owner: 'g/s', repo: 'app', number: 8 });
  });

  it('returns the first ref', () => {
    expect(findIssueRefInText('h/o/a#1 and h/o/b#2', NONE)?.ref.repo).toBe('a');
  });

  it('accepts #N only with a default repo', () => {
    expect(findIssueRefInText('#1 priority is speed', NONE)).toBeNull();
    expect(findIssueRefInText('#1 priority is speed', { defaultHost: 'h' })).toBeNull();
    expect(findIssueRefInText('fix #7 today', DEFAULTS)?.ref).toEqual({
      host: 'git.example.com',
      owner: 'me',
      repo: 'app',
      number: 7,
    });
  });

  it('accepts owner/repo#N only with a default host', () => {
    expect(findIssueRefInText('fix you/lib#3 now', NONE)).toBeNull();
    expect(findIssueRefInText('fix you/lib#3 now', DEFAULTS)?.ref.host).toBe('git.example.com');
  });

  it('returns null for text without a ref, and never throws', () => {
    expect(findIssueRefInText('', DEFAULTS)).toBeNull();
    expect(findIssueRefInText('summarise the open issues', DEFAULTS)).toBeNull();
    expect(findIssueRefInText('host/../etc#1 $(touch /tmp/pwned) #0 #01', DEFAULTS)).toBeNull();
    expect(findIssueRefInText('x'.repeat(1024 * 1024), DEFAULTS)).toBeNull();
  });

  it('skips a hostile token and finds a later ref', () => {
    expect(findIssueRefInText('h/../x#1 then h/o/r#5', NONE)?.raw).toBe('h/o/r#5');
  });
});

describe('parseRepoSpec', () => {
  it('parses host/owner/repo, with subgroups and ports', () => {
    expect(parseRepoSpec('git.example.com/me/app')).toEqual({
      host: 'git.example.com',
      owner: 'me',
      repo: 'app',
    });
    expect(parseRepoSpec('localhost:3000/g/s/app')).toEqual({
      host: 'localhost:3000',
      owner: 'g/s',
      repo: 'app',
    });
  });

  it('parses owner/repo with the default host', () => {
    expect(parseRepoSpec(' me/app ', 'h')).toEqual({ host: 'h', owner: 'me', repo: 'app' });
  });

  it('needs a default host for owner/repo', () => {
    const err = usageError(() => parseRepoSpec('me/app'));
    expect(err.message).toContain('KUGETSU_DEFAULT_REPO="me/app"');
    expect(err.message).toContain('KUGETSU_DEFAULT_SERVER');
  });

  it.each(['', 'app', 'h/../app', 'h/me/..', 'me/app#1', 'h/me/app/', 'h/m e/app', '/me/app'])(
    'rejects %j naming KUGETSU_DEFAULT_REPO',
    (spec) => {
      const err = usageError(() => parseRepoSpec(spec, 'h'));
      expect(err.message).toContain(`invalid KUGETSU_DEFAULT_REPO=${JSON.stringify(spec)}`);
    },
  );
});
