// The HTTP API, as the dashboard calls it: the bearer token kept in this browser's storage.
const KEY = 'kugetsu.token';

export function token() {
  return localStorage.getItem(KEY);
}

export function saveToken(value) {
  localStorage.setItem(KEY, value);
}

export function forgetToken() {
  localStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem.code ?? null;
  }
}

export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t !== null) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const data = text === '' ? {} : JSON.parse(text);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);

/** A login link's one-time code becomes this browser's own token. */
export async function redeemLoginCode(code) {
  const { token: value } = await request('POST', '/auth/login', { code });
  saveToken(value);
}
