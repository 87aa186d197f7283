/** Statements of the HTTP API's tokens and login codes on SQLite. */
import { OperationError } from '../../errors.js';
import type { ApiToken, ApiTokenRecords } from '../store-interface.js';
import type { SqliteDb } from './sqlite-db.js';

interface TokenRow {
  name: string;
  token_hash: string;
  read_only: number;
  created_at: number;
}

const toToken = (row: TokenRow): ApiToken => ({
  name: row.name,
  readOnly: row.read_only === 1,
  createdAt: row.created_at,
});

export function sqliteApiTokens(
  db: SqliteDb,
  done: <T>(fn: () => T) => Promise<T>,
): ApiTokenRecords {
  return {
    create: (token, hash) =>
      done(() => {
        const inserted = db.run(
          `INSERT INTO api_tokens (name, token_hash, read_only, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (name) DO NOTHING`,
          token.name,
          hash,
          token.readOnly ? 1 : 0,
          token.createdAt,
        ).changes;
        if (inserted === 0)
          throw new OperationError(`token ${token.name} already exists: revoke it first`);
        return token;
      }),
    list: () => done(() => db.all<TokenRow>('SELECT * FROM api_tokens ORDER BY name').map(toToken)),
    findByHash: (hash) =>
      done(() => {
        const row = db.get<TokenRow>('SELECT * FROM api_tokens WHERE token_hash = ?', hash);
        return row === undefined ? null : { ...toToken(row), hash: row.token_hash };
      }),
    revoke: (name) => done(() => db.run('DELETE FROM api_tokens WHERE name = ?', name).changes > 0),
    addLoginCode: (hash, readOnly, expiresAt) =>
      done(() => {
        db.run(
          'INSERT INTO api_login_codes (code_hash, read_only, expires_at) VALUES (?, ?, ?)',
          hash,
          readOnly ? 1 : 0,
          expiresAt,
        );
      }),
    redeemLoginCode: (hash, now = Date.now()) =>
      done(() =>
        db.immediate(() => {
          db.run('DELETE FROM api_login_codes WHERE expires_at <= ?', now);
          const row = db.get<{ read_only: number }>(
            'DELETE FROM api_login_codes WHERE code_hash = ? RETURNING read_only',
            hash,
          );
          return row === undefined ? null : { readOnly: row.read_only === 1 };
        }),
      ),
  };
}
