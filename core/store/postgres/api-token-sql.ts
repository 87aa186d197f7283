/** Statements of the HTTP API's tokens and login codes on PostgreSQL. */
import { OperationError } from '../../errors.js';
import type { ApiToken, ApiTokenRecords } from '../store-interface.js';
import type { PgDb } from './pg-db.js';

interface PgTokenRow {
  name: string;
  token_hash: string;
  read_only: boolean;
  created_at: string | number;
}

const toToken = (row: PgTokenRow): ApiToken => ({
  name: row.name,
  readOnly: row.read_only,
  createdAt: Number(row.created_at),
});

export function postgresApiTokens(db: PgDb): ApiTokenRecords {
  const sql = db.sql;
  return {
    create: async (token, hash) => {
      const inserted = await sql.run(
        `INSERT INTO api_tokens (name, token_hash, read_only, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (name) DO NOTHING`,
        token.name,
        hash,
        token.readOnly,
        token.createdAt,
      );
      if (inserted === 0)
        throw new OperationError(`token ${token.name} already exists: revoke it first`);
      return token;
    },
    list: async () =>
      (await sql.all<PgTokenRow>('SELECT * FROM api_tokens ORDER BY name')).map(toToken),
    findByHash: async (hash) => {
      const row = await sql.get<PgTokenRow>('SELECT * FROM api_tokens WHERE token_hash = $1', hash);
      return row === undefined ? null : { ...toToken(row), hash: row.token_hash };
    },
    revoke: async (name) => (await sql.run('DELETE FROM api_tokens WHERE name = $1', name)) > 0,
    addLoginCode: async (hash, readOnly, expiresAt) => {
      await sql.run(
        'INSERT INTO api_login_codes (code_hash, read_only, expires_at) VALUES ($1, $2, $3)',
        hash,
        readOnly,
        expiresAt,
      );
    },
    // One DELETE … RETURNING: of two callers racing, only the one whose delete took the row wins.
    redeemLoginCode: (hash, now = Date.now()) =>
      db.transaction(async (tx) => {
        await tx.run('DELETE FROM api_login_codes WHERE expires_at <= $1', now);
        const row = await tx.get<{ read_only: boolean }>(
          'DELETE FROM api_login_codes WHERE code_hash = $1 RETURNING read_only',
          hash,
        );
        return row === undefined ? null : { readOnly: row.read_only };
      }),
  };
}
