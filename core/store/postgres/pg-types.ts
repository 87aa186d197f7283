/**
 * How rows come back from PostgreSQL: in the same shapes as SQLite's, so one mapping
 * (`*-rows.ts`) serves both engines.
 */
import pg from 'pg';

const INT8 = 20;
const JSON_OID = 114;
const JSONB_OID = 3802;

/** BIGINT columns hold epoch ms, ids and token counts: all well inside 2^53. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`a BIGINT past 2^53 came back: ${text}`);
  return n;
}

/**
 * This pool's own parsers (pg's global ones are left alone): BIGINT as a number, and JSON as its
 * text, so rows come back in the `*-rows.ts` shapes of SQLite and one mapping serves both.
 */
export const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((text: string) => unknown) => {
    if (oid === INT8) return parseInt8;
    if (oid === JSON_OID || oid === JSONB_OID) return (text: string) => text;
    return pg.types.getTypeParser(oid, format) as (text: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};
