/** One usage line per command: shown by `kugetsu help` and in usage errors. */
export const USAGE: Record<string, string> = {
  init: 'init',
  status: 'status [--json]',
  doctor: 'doctor [--fix] [--json]',
  start: 'start REF MESSAGE|- [--agent NAME] [--model MODEL] [--detach] [--json]',
  continue: 'continue REF MESSAGE|- [--agent NAME] [--model MODEL] [--detach] [--json]',
  resume: 'resume REF [MESSAGE] [--detach] [--json]',
  stop: 'stop REF [--detach] [--json]',
  list: 'list [--all] [--json]',
  prune: 'prune [--force] [--json]',
  destroy: 'destroy REF [-y] [--force] | destroy --base -y | destroy --pm-agent -y',
  merge: 'merge REF [-y] [--json]',
  delegate: 'delegate MESSAGE|- [--agent NAME] [--model MODEL] [--json]',
  queue: 'queue list [--all]|stats|clear [--all]|enqueue REF MESSAGE|cancel ID|retry ID [--json]',
  daemon: 'daemon start|stop|restart|status|logs [-f] [-n LINES]|run [--json]',
  notify: 'notify [list [--all]|clear] [--json]',
  env: 'env list|show [AGENT]|set KEY VALUE|- [AGENT]|get KEY [AGENT]|rm KEY [AGENT] [--json]',
  server:
    'server list|add NAME URL [--kind K] [--token-env VAR] [--api-url URL]|remove NAME|default NAME|get NAME [--json]',
  intake: 'intake list|add REPO [--label LABEL] [--mention @NAME]|remove REPO|poll [--json]',
  logs: 'logs [-n RUNS] | logs TASK_ID|REF [-f] [-n LINES] [--json]',
  bot: 'bot [run] | bot allow CODE | bot users | bot revoke USER_ID [--json]',
  approvals: 'approvals [--all] [--json]',
  ask: 'ask SUBJECT [--category C] [--tool NAME] [--reason TEXT] | ask --question TEXT [--option A]... [--json]',
  approve: 'approve ID [--task] [--answer TEXT] [--json]',
  deny: 'deny ID [--message TEXT] [--json]',
  mcp: 'mcp permissions   (the MCP server claude starts for its permission prompts)',
  api: 'api token create NAME [--read-only] | api token list | api token revoke NAME | api login-link [--read-only] [--url URL] [--json]',
  serve:
    'serve [--listen HOST:PORT]   (the HTTP API alone; the daemon serves it when KUGETSU_HTTP_LISTEN is set)',
  demo: 'demo [--tasks N] [--keep]',
  workers: 'workers [--json]   (the machines sharing KUGETSU_DATABASE_URL)',
  session: 'session move REF WORKER [--json]',
  help: 'help [COMMAND]',
};

export const SUMMARY = `kugetsu — run AI coding agents on your issues, one git worktree each, never more than MAX_CONCURRENT_AGENTS at once.

Usage: kugetsu <command> [options]   (every command that prints data takes --json)

Set-up      init · status · doctor · server · env · intake
Work        start · continue · resume · stop · delegate · merge
Look        list · queue · logs · notify
Answer      approvals · approve · deny · ask (for agents)
Clean up    prune · destroy
Run         daemon · bot · demo · mcp · workers · session
HTTP API    serve · api (tokens, login links)

Exit codes: 0 done, 1 the operation failed, 2 usage error. \`kugetsu help COMMAND\` for one command.`;
