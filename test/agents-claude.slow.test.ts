/** The real claude CLI run by kugetsu against the scripted model server (see helpers/agent-suite.ts). */
import { realAgentSuite } from './helpers/agent-suite.js';

realAgentSuite('claude');
