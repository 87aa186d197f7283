/**
 * The two agent sessions kugetsu keeps besides the issues' own: the base session (standing
 * instructions, forked into every new dev session by backends that can) and the PM agent's.
 * Both live in the store's meta table.
 */
import type { AgentName, Usage } from './domain.js';
import type { MetaRecords } from './store/store-interface.js';
import type { Store } from './store/store.js';

export interface BaseSessionRecord {
  agent: AgentName;
  /** The agent's own id; null when the backend cannot fork and takes the instructions inline. */
  sessionId: string | null;
  createdAt: number;
}

export interface PmSessionRecord {
  agent: AgentName;
  sessionId: string | null;
  createdAt: number;
}

const baseKey = (agent: AgentName): string => `base_session:${agent}`;
const PM_KEY = 'pm_agent';

function parse<T>(raw: string | null): T | null {
  return raw === null ? null : (JSON.parse(raw) as T);
}

export function getBaseSession(store: Store, agent: AgentName): BaseSessionRecord | null {
  return parse<BaseSessionRecord>(store.getMeta(baseKey(agent)));
}

export function setBaseSession(store: Store, agent: AgentName, sessionId: string | null): void {
  const record: BaseSessionRecord = { agent, sessionId, createdAt: Date.now() };
  store.setMeta(baseKey(agent), JSON.stringify(record));
}

export function deleteBaseSessions(store: Store, agents: readonly AgentName[]): void {
  for (const agent of agents) store.deleteMeta(baseKey(agent));
}

export function getPmSession(store: Store): PmSessionRecord | null {
  return parse<PmSessionRecord>(store.getMeta(PM_KEY));
}

export function setPmSession(store: Store, agent: AgentName, sessionId: string | null): void {
  store.setMeta(PM_KEY, JSON.stringify(pmRecord(getPmSession(store), agent, sessionId)));
}

/** The PM agent's next record: its age is kept while the agent stays the same. */
function pmRecord(
  previous: PmSessionRecord | null,
  agent: AgentName,
  sessionId: string | null,
): PmSessionRecord {
  return {
    agent,
    sessionId,
    createdAt: previous?.agent === agent ? previous.createdAt : Date.now(),
  };
}

export function deletePmSession(store: Store): void {
  store.deleteMeta(PM_KEY);
}

const totalsKey = (agent: AgentName, sessionId: string): string =>
  `agent_totals:${agent}:${sessionId}`;

/** The running total an agent last reported for one of its sessions (codex reports totals). */
export function getSessionTotals(store: Store, agent: AgentName, sessionId: string): Usage | null {
  return parse<Usage>(store.getMeta(totalsKey(agent, sessionId)));
}

export function setSessionTotals(
  store: Store,
  agent: AgentName,
  sessionId: string,
  totals: Usage,
): void {
  store.setMeta(totalsKey(agent, sessionId), JSON.stringify(totals));
}

export function deleteSessionTotals(store: Store, agent: AgentName, sessionId: string): void {
  store.deleteMeta(totalsKey(agent, sessionId));
}

/**
 * The same records over the Store seam's meta area (async), for callers that have moved off the
 * synchronous Store; the functions above go when it does.
 */
export function agentSessionMeta(meta: MetaRecords) {
  const pm = async (): Promise<PmSessionRecord | null> =>
    parse<PmSessionRecord>(await meta.get(PM_KEY));
  return {
    base: async (agent: AgentName): Promise<BaseSessionRecord | null> =>
      parse<BaseSessionRecord>(await meta.get(baseKey(agent))),
    deleteBase: (agent: AgentName): Promise<void> => meta.delete(baseKey(agent)),
    pm,
    setPm: async (agent: AgentName, sessionId: string | null): Promise<void> =>
      meta.set(PM_KEY, JSON.stringify(pmRecord(await pm(), agent, sessionId))),
    totals: async (agent: AgentName, sessionId: string): Promise<Usage | null> =>
      parse<Usage>(await meta.get(totalsKey(agent, sessionId))),
    setTotals: (agent: AgentName, sessionId: string, totals: Usage): Promise<void> =>
      meta.set(totalsKey(agent, sessionId), JSON.stringify(totals)),
  };
}

export type AgentSessionMeta = ReturnType<typeof agentSessionMeta>;
