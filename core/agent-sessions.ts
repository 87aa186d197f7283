/**
 * The two agent sessions kugetsu keeps besides the issues' own: the base session (standing
 * instructions, forked into every new dev session by backends that can) and the PM agent's,
 * and the running totals agents report per session. All live in the store's meta area.
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
const totalsKey = (agent: AgentName, sessionId: string): string =>
  `agent_totals:${agent}:${sessionId}`;

function parse<T>(raw: string | null): T | null {
  return raw === null ? null : (JSON.parse(raw) as T);
}

/** The records over the Store seam's meta area. */
export function agentSessionMeta(meta: MetaRecords) {
  const pm = async (): Promise<PmSessionRecord | null> =>
    parse<PmSessionRecord>(await meta.get(PM_KEY));
  const base = async (agent: AgentName): Promise<BaseSessionRecord | null> =>
    parse<BaseSessionRecord>(await meta.get(baseKey(agent)));
  return {
    base,
    /** Returns the record written. */
    setBase: async (agent: AgentName, sessionId: string | null): Promise<BaseSessionRecord> => {
      const record: BaseSessionRecord = { agent, sessionId, createdAt: Date.now() };
      await meta.set(baseKey(agent), JSON.stringify(record));
      return record;
    },
    deleteBase: (agent: AgentName): Promise<void> => meta.delete(baseKey(agent)),
    pm,
    /** The PM agent's record keeps its age while the agent stays the same. */
    setPm: async (agent: AgentName, sessionId: string | null): Promise<void> => {
      const previous = await pm();
      const record: PmSessionRecord = {
        agent,
        sessionId,
        createdAt: previous?.agent === agent ? previous.createdAt : Date.now(),
      };
      await meta.set(PM_KEY, JSON.stringify(record));
    },
    deletePm: (): Promise<void> => meta.delete(PM_KEY),
    /** The running total an agent last reported for one of its sessions (codex reports totals). */
    totals: async (agent: AgentName, sessionId: string): Promise<Usage | null> =>
      parse<Usage>(await meta.get(totalsKey(agent, sessionId))),
    setTotals: (agent: AgentName, sessionId: string, totals: Usage): Promise<void> =>
      meta.set(totalsKey(agent, sessionId), JSON.stringify(totals)),
    deleteTotals: (agent: AgentName, sessionId: string): Promise<void> =>
      meta.delete(totalsKey(agent, sessionId)),
  };
}

export type AgentSessionMeta = ReturnType<typeof agentSessionMeta>;

/** The base session, read through the synchronous Store (`homeStatus` opens no home). */
export function getBaseSession(store: Store, agent: AgentName): BaseSessionRecord | null {
  return parse<BaseSessionRecord>(store.getMeta(baseKey(agent)));
}

/** The PM agent's record, read through the synchronous Store (`homeStatus` opens no home). */
export function getPmSession(store: Store): PmSessionRecord | null {
  return parse<PmSessionRecord>(store.getMeta(PM_KEY));
}
