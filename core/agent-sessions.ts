/**
 * The two agent sessions kugetsu keeps besides the issues' own: the base session (standing
 * instructions, forked into every new dev session by backends that can) and the PM agent's.
 * Both live in the store's meta table.
 */
import type { AgentName, Usage } from './domain.js';
import type { MetaRecords } from './store/store-interface.js';

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

const totalsKey = (agent: AgentName, sessionId: string): string =>
  `agent_totals:${agent}:${sessionId}`;

/** The records over the Store seam's meta area. */
export function agentSessionMeta(meta: MetaRecords) {
  const pm = async (): Promise<PmSessionRecord | null> =>
    parse<PmSessionRecord>(await meta.get(PM_KEY));
  return {
    base: async (agent: AgentName): Promise<BaseSessionRecord | null> =>
      parse<BaseSessionRecord>(await meta.get(baseKey(agent))),
    setBase: (agent: AgentName, sessionId: string | null): Promise<void> => {
      const record: BaseSessionRecord = { agent, sessionId, createdAt: Date.now() };
      return meta.set(baseKey(agent), JSON.stringify(record));
    },
    deleteBase: (agent: AgentName): Promise<void> => meta.delete(baseKey(agent)),
    pm,
    setPm: async (agent: AgentName, sessionId: string | null): Promise<void> =>
      meta.set(PM_KEY, JSON.stringify(pmRecord(await pm(), agent, sessionId))),
    deletePm: (): Promise<void> => meta.delete(PM_KEY),
    totals: async (agent: AgentName, sessionId: string): Promise<Usage | null> =>
      parse<Usage>(await meta.get(totalsKey(agent, sessionId))),
    setTotals: (agent: AgentName, sessionId: string, totals: Usage): Promise<void> =>
      meta.set(totalsKey(agent, sessionId), JSON.stringify(totals)),
    deleteTotals: (agent: AgentName, sessionId: string): Promise<void> =>
      meta.delete(totalsKey(agent, sessionId)),
  };
}

export type AgentSessionMeta = ReturnType<typeof agentSessionMeta>;
