/**
 * The conversation with `codex app-server` for one run: initialize, open the thread (start,
 * resume or fork), send the prompt as one turn, answer codex's requests through kugetsu's
 * approval gate, and end the run when the turn completes. The output parser reads the same
 * lines for the transcript, usage and errors; this holds only what the protocol needs.
 */
import type { ApprovalAnswer } from '../../approvals/approval.js';
import type { AgentDriver, DriverIo } from '../agent-backend.js';
import { oneLine, record, str } from '../agent-output.js';
import { planServerRequest, type RequestContext } from './codex-approvals.js';
import { codexApprovalPolicy, type AgentPolicy } from './codex-policy.js';
import { isGivenCommand } from './codex-shell.js';
import {
  JSON_RPC_METHOD_NOT_FOUND,
  jsonRpcPeer,
  type JsonRpcId,
  type JsonRpcPeer,
} from './json-rpc.js';

export interface CodexConversation {
  /** `resume` continues `threadId`; `fork` starts a new thread from it. */
  open: { mode: 'start' } | { mode: 'resume' | 'fork'; threadId: string };
  worktree: string;
  prompt: string;
  model: string | null;
  /** codex's sandbox mode (`workspace-write`, …). */
  sandbox: string;
  policy: AgentPolicy;
  /** Commands the agent runs unasked (the PM agent's `kugetsu`). */
  allowedCommands: readonly string[];
  /** Images that come with the task: absolute paths, sent with the prompt as `localImage`. */
  images?: readonly string[];
}

/**
 * Notifications kugetsu never reads: streamed text and reasoning (the completed items carry it
 * whole), diffs that can be larger than a line kugetsu reads whole, account and UI state.
 * Command output deltas are kept: they are the transcript of a long command, and its liveness.
 */
export const UNREAD_NOTIFICATIONS = [
  'item/agentMessage/delta',
  'item/plan/delta',
  'item/reasoning/summaryTextDelta',
  'item/reasoning/summaryPartAdded',
  'item/reasoning/textDelta',
  'item/fileChange/outputDelta',
  'item/fileChange/patchUpdated',
  'turn/diff/updated',
  'turn/plan/updated',
  'rawResponseItem/completed',
  'account/rateLimits/updated',
  'thread/readState/changed',
  'remoteControl/status/changed',
];

const GIVEN: ApprovalAnswer = {
  decision: 'allow',
  scope: 'once',
  by: { channel: 'kugetsu', who: 'kugetsu' },
};

/** Who a denial came from when it was a person, whose words the agent should hear. */
const PEOPLE = new Set(['telegram', 'cli', 'api']);

export function codexDriver(conversation: CodexConversation): AgentDriver {
  let io: DriverIo | null = null;
  let peer: JsonRpcPeer | null = null;
  let threadId: string | null = null;
  let turnId: string | null = null;
  let over = false;
  const fileChanges = new Map<string, string[]>();
  const context: RequestContext = {
    worktree: conversation.worktree,
    approvalPolicy: codexApprovalPolicy(conversation.policy),
    policy: conversation.policy,
    fileChanges: (itemId) => fileChanges.get(itemId) ?? null,
  };

  const end = (error: string | null): void => {
    if (over || io === null) return;
    over = true;
    peer?.close('the conversation is over');
    // app-server leaves on the end of its input; the process group is ended either way.
    io.endInput();
    io.finish({ error });
  };

  const open = async (rpc: JsonRpcPeer, run: DriverIo): Promise<void> => {
    const { open: how } = conversation;
    const method = how.mode === 'start' ? 'thread/start' : `thread/${how.mode}`;
    try {
      await rpc.request('initialize', {
        clientInfo: { name: 'kugetsu', title: 'kugetsu', version: '1' },
        capabilities: {
          experimentalApi: true,
          requestAttestation: false,
          optOutNotificationMethods: UNREAD_NOTIFICATIONS,
        },
      });
      rpc.notify('initialized');
      const settings = {
        cwd: conversation.worktree,
        approvalPolicy: context.approvalPolicy,
        sandbox: conversation.sandbox,
        ...(conversation.model === null ? {} : { model: conversation.model }),
      };
      const opened = record(
        await rpc.request(
          method,
          how.mode === 'start'
            ? settings
            : // The history stays with codex: a long thread is not sent back on one line.
              { threadId: how.threadId, ...settings, excludeTurns: true },
        ),
      );
      threadId ??= str(record(opened['thread'])['id']);
      if (threadId === null) throw new Error(`${method} answered without a thread id`);
      const started = record(
        await rpc.request('turn/start', {
          threadId,
          input: [
            { type: 'text', text: conversation.prompt, text_elements: [] },
            ...(conversation.images ?? []).map((path) => ({ type: 'localImage', path })),
          ],
        }),
      );
      turnId ??= str(record(started['turn'])['id']);
    } catch (err) {
      if (run.signal.aborted) return;
      end(`codex app-server: ${oneLine(err instanceof Error ? err.message : String(err), 300)}`);
    }
  };

  const answer = async (
    rpc: JsonRpcPeer,
    run: DriverIo,
    id: JsonRpcId,
    method: string,
    params: unknown,
  ): Promise<void> => {
    const plan = planServerRequest(method, params, context);
    if (plan.kind === 'refuse') {
      rpc.respondError(id, JSON_RPC_METHOD_NOT_FOUND, plan.message);
      run.note(`codex asked ${method}: refused (${plan.message})`);
      return;
    }
    if (plan.kind === 'reply') {
      rpc.respond(id, plan.result);
      if (plan.note !== '') run.note(plan.note);
      return;
    }
    const [only] = plan.requests;
    if (
      plan.requests.length === 1 &&
      only?.category === 'bash' &&
      isGivenCommand(only.subject, conversation.allowedCommands)
    ) {
      rpc.respond(id, plan.reply([GIVEN]));
      run.note(`${only.subject}: allowed (a command kugetsu gives this agent)`);
      return;
    }
    const answers: ApprovalAnswer[] = [];
    for (const request of plan.requests) {
      let given: ApprovalAnswer;
      try {
        given = await run.ask(request);
      } catch (err) {
        // The gate failing must not leave codex waiting: it is told no.
        given = {
          decision: 'deny',
          message: `kugetsu could not ask: ${err instanceof Error ? err.message : String(err)}`,
          by: { channel: 'kugetsu', who: 'kugetsu' },
        };
      }
      answers.push(given);
    }
    if (run.signal.aborted || over) return;
    rpc.respond(id, plan.reply(answers));
    // codex's refusal carries no words; a person's reason reaches the model as their input.
    const denied = plan.requests.findIndex((request, i) => {
      const given = answers[i];
      return (
        request.kind === 'permission' && given?.decision === 'deny' && PEOPLE.has(given.by.channel)
      );
    });
    const refusal = answers[denied];
    const request = plan.requests[denied];
    if (
      refusal?.decision === 'deny' &&
      request !== undefined &&
      threadId !== null &&
      turnId !== null
    ) {
      rpc
        .request('turn/steer', {
          threadId,
          expectedTurnId: turnId,
          input: [
            {
              type: 'text',
              text: `kugetsu: the user refused ${request.tool} (${request.subject}): ${refusal.message}`,
              text_elements: [],
            },
          ],
        })
        // The turn may have moved on or ended: the refusal itself has reached codex already.
        .catch(() => undefined);
    }
  };

  return {
    start(driverIo) {
      io = driverIo;
      const rpc = jsonRpcPeer((text) => driverIo.write(text));
      peer = rpc;
      driverIo.signal.addEventListener('abort', () => rpc.close('the run was stopped'), {
        once: true,
      });
      void open(rpc, driverIo);
    },
    line(text) {
      const run = io;
      const rpc = peer;
      if (run === null || rpc === null) return;
      const incoming = rpc.receive(text);
      if (incoming === null) return;
      switch (incoming.kind) {
        case 'response': {
          // Read here, not after the await: the turn may complete in the same chunk of output.
          const thread = str(record(record(incoming.result)['thread'])['id']);
          if (threadId === null && thread !== null) threadId = thread;
          const turn = str(record(record(incoming.result)['turn'])['id']);
          if (turnId === null && turn !== null && threadId !== null) turnId = turn;
          return;
        }
        case 'request':
          if (over) {
            rpc.respondError(incoming.id, JSON_RPC_METHOD_NOT_FOUND, 'the run is over');
            return;
          }
          void answer(rpc, run, incoming.id, incoming.method, incoming.params);
          return;
        case 'notification': {
          const params = record(incoming.params);
          if (incoming.method === 'item/started') {
            const item = record(params['item']);
            if (item['type'] === 'fileChange') {
              const changes = Array.isArray(item['changes']) ? item['changes'] : [];
              fileChanges.set(
                str(item['id']) ?? '',
                changes.map((c) => str(record(c)['path'])).filter((p): p is string => p !== null),
              );
            }
            return;
          }
          // Sub-agents' threads complete turns of their own; the run is this thread's turn.
          if (incoming.method === 'turn/completed' && params['threadId'] === threadId) {
            const turn = record(params['turn']);
            const status = str(turn['status']);
            const error = str(record(turn['error'])['message']);
            end(
              status === 'failed'
                ? `codex: ${oneLine(error ?? 'the turn failed', 300)}`
                : status === 'interrupted'
                  ? 'codex: the turn was interrupted'
                  : null,
            );
          }
          return;
        }
      }
    },
  };
}
