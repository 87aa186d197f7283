/**
 * `kugetsu mcp permissions`: the MCP server claude starts for `--permission-prompt-tool`. Each
 * call is one thing claude asks about; it goes through the task's approval gate (policy, grants,
 * then an open row the daemon pushes to the phone) and the answer goes back as claude's JSON.
 *
 * claude looks the tool up when it first needs it and gives a slow server only a couple of
 * seconds, so the handshake is answered before the home is opened; the home opens in the
 * background once the handshake is done.
 */
import type { Readable, Writable } from 'node:stream';
import type { ApprovalAnswer, ApprovalRequest } from '../../approvals/approval.js';
import type { ApprovalGate } from '../../approvals/gate.js';
import { UsageError, errorMessage, quote } from '../../errors.js';
import type { HomeContext } from '../../home-context.js';
import {
  claudeAsk,
  permissionResult,
  questionsResult,
  type AskContext,
  type ClaudePermissionResult,
} from './claude-permissions.js';
import { PERMISSION_TOOL_NAME, permissionModeFor } from './claude-policy.js';
import { serveMcp, type McpTool } from './mcp-server.js';

export interface PermissionServerOptions {
  env: NodeJS.ProcessEnv;
  input: Readable;
  output: Writable;
  /** Diagnostics: claude keeps an MCP server's stderr in its debug log. */
  log: (line: string) => void;
  version: string;
  /** Where claude runs; the worktree when KUGETSU_WORKTREE is not set. */
  cwd: string;
}

interface Ready {
  ctx: HomeContext;
  gate: ApprovalGate;
  context: AskContext;
  /** Wakes the daemon, which pushes what changed. */
  announce: () => void;
}

export async function servePermissions(options: PermissionServerOptions): Promise<void> {
  const { env, log } = options;
  const taskId = Number(env['KUGETSU_TASK_ID']);
  if (!Number.isSafeInteger(taskId) || taskId <= 0)
    throw new UsageError(
      `mcp permissions: KUGETSU_TASK_ID must name the task (got ${quote(env['KUGETSU_TASK_ID'] ?? '')}); kugetsu starts this server for claude`,
    );
  const worktree = env['KUGETSU_WORKTREE']?.trim() || options.cwd;

  const home: { opening: Promise<Ready> | null } = { opening: null };
  const ready = (): Promise<Ready> => (home.opening ??= openGate(env, taskId, worktree));

  const tool: McpTool = {
    name: PERMISSION_TOOL_NAME,
    description:
      "kugetsu's approvals: holds a permission claude asks for until the user answers (phone or `kugetsu approve`), or KUGETSU_APPROVAL_POLICY decides.",
    inputSchema: {
      type: 'object',
      properties: {
        tool_name: { type: 'string', description: 'The tool claude asks to use' },
        input: { type: 'object', description: "The tool's input" },
        tool_use_id: { type: 'string' },
      },
      required: ['tool_name', 'input'],
    },
    async call(args, signal) {
      const toolName = typeof args['tool_name'] === 'string' ? args['tool_name'] : 'unknown';
      const input = isRecord(args['input']) ? args['input'] : {};
      let result: ClaudePermissionResult;
      try {
        result = await decide(await ready(), toolName, input, signal);
      } catch (err) {
        // Fail closed: the agent is told, and the run goes on without the tool.
        log(`kugetsu mcp permissions: ${errorMessage(err)}`);
        result = {
          behavior: 'deny',
          message: `kugetsu could not ask the user (${errorMessage(err)}): denied`,
        };
      }
      return JSON.stringify(result);
    },
  };

  try {
    await serveMcp({
      name: 'kugetsu',
      version: options.version,
      tools: [tool],
      input: options.input,
      output: options.output,
      onInitialized: () => {
        // A failure shows on the first call, which reports it.
        setImmediate(() => void ready().catch(() => undefined));
      },
    });
  } finally {
    if (home.opening !== null) (await home.opening.catch(() => null))?.ctx.close();
  }
}

async function openGate(env: NodeJS.ProcessEnv, taskId: number, worktree: string): Promise<Ready> {
  const [{ openHome }, { gateForRunningTask }, { policyFor }, { wakeDaemon }, { realpathSync }] =
    await Promise.all([
      import('../../home-context.js'),
      import('../../approvals/task-gate.js'),
      import('../../approvals/policy.js'),
      import('../../wake-channel.js'),
      import('node:fs'),
    ]);
  const ctx = await openHome(env);
  let gate: ApprovalGate;
  try {
    gate = await gateForRunningTask(ctx, taskId);
  } catch (err) {
    ctx.close();
    throw err;
  }
  const roots = [worktree];
  try {
    const real = realpathSync(worktree);
    if (real !== worktree) roots.push(real);
  } catch {
    // A worktree that is not there: every path is outside it.
  }
  return {
    ctx,
    gate,
    announce: () => void wakeDaemon(ctx.paths.daemonSocket),
    context: {
      roots,
      permissionMode: permissionModeFor(
        policyFor(ctx.config.approvalPolicy, 'claude'),
        ctx.config.claudePermissionMode,
        true,
      ),
    },
  };
}

async function decide(
  ready: Ready,
  toolName: string,
  input: Record<string, unknown>,
  signal: AbortSignal,
): Promise<ClaudePermissionResult> {
  const asked = claudeAsk(toolName, input, ready.context);
  if (asked.kind === 'permission')
    return permissionResult(input, await ask(ready, asked.request, signal));
  const answered: { question: string; answer: ApprovalAnswer }[] = [];
  for (const { question, request } of asked.questions) {
    const answer = await ask(ready, request, signal);
    answered.push({ question, answer });
    if (answer.decision !== 'answer') break;
  }
  return questionsResult(input, answered);
}

/** One request through the gate; a request claude gave up on is closed, not left open. */
async function ask(
  { ctx, gate, announce }: Ready,
  request: ApprovalRequest,
  signal: AbortSignal,
): Promise<ApprovalAnswer> {
  const opened: { id: number | null } = { id: null };
  const answer = await gate.ask(request, { signal, onOpened: (a) => (opened.id = a.id) });
  if (signal.aborted && opened.id !== null) {
    const closed = await ctx.store.approvals.resolve(opened.id, {
      decision: 'deny',
      message: 'claude no longer waits for an answer',
      by: { channel: 'kugetsu', who: 'claude' },
    });
    if (closed.won) announce();
  }
  return answer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
