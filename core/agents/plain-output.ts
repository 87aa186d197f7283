import { sessionIdFromMarker, type AgentOutputParser, type AgentReport } from './agent-output.js';

/**
 * Output of an arbitrary command: every line is transcript, the `KUGETSU_AGENT_SESSION=<id>`
 * line names the session, and the last line is the answer.
 */
export function plainOutputParser(): AgentOutputParser {
  let sessionId: string | null = null;
  let lastLine: string | null = null;
  return {
    line(text) {
      const marker = sessionIdFromMarker(text);
      if (marker !== null) {
        sessionId = marker;
        return { display: [text] };
      }
      if (text.trim() !== '') lastLine = text.trim();
      return { display: [text] };
    },
    report(): AgentReport {
      return {
        sessionId,
        usage: null,
        finalText: lastLine,
        question: null,
        error: null,
        fatal: null,
        sessionTotals: null,
      };
    },
  };
}
