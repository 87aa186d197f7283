/** Where a repository keeps its WORKFLOW.md: apart from the parser, which loads yaml and zod. */
export const WORKFLOW_PATH = '.kugetsu/WORKFLOW.md';
