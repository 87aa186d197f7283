/**
 * Git's smart HTTP protocol for the fake forges: each request runs `git http-backend` as a CGI
 * script, exactly as a web server in front of a real forge's git service would.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface GitCgiRequest {
  /** The directory holding `owner/repo.git` bare repositories. */
  projectRoot: string;
  /** `/owner/repo.git/info/refs` etc. */
  pathInfo: string;
  queryString: string;
  /** Whom the forge authenticated (any name: git only logs it). */
  remoteUser: string;
}

/** Headers the CGI must not see: the credentials are the forge's business, not git's. */
const HIDDEN_HEADERS = new Set(['authorization', 'proxy-authorization']);

/** Runs one request through `git http-backend`; resolves with the HTTP status it answered. */
export function serveGitHttp(
  req: IncomingMessage,
  res: ServerResponse,
  cgi: GitCgiRequest,
): Promise<number> {
  const env: NodeJS.ProcessEnv = {};
  // The test process's own GIT_* settings (a developer's GIT_DIR, say) must not leak in.
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: cgi.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: cgi.pathInfo,
    QUERY_STRING: cgi.queryString,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: cgi.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
  });
  // A chunked body has no length; http-backend then reads to EOF.
  const length = req.headers['content-length'];
  if (length !== undefined) env.CONTENT_LENGTH = length;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HIDDEN_HEADERS.has(name)) continue;
    // Includes HTTP_CONTENT_ENCODING (git gzips large request bodies) and HTTP_GIT_PROTOCOL.
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value)
      ? value.join(', ')
      : value;
  }

  return new Promise((resolve) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let head = Buffer.alloc(0);
    let headersSent = false;
    let status = 200;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (end === null) return;
      const { code, headers } = parseCgiHeaders(head.subarray(0, end.start).toString('latin1'));
      status = code;
      res.writeHead(code, headers);
      headersSent = true;
      const rest = head.subarray(end.bodyStart);
      if (rest.length > 0) res.write(rest);
    });
    child.on('error', (err) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend: ${err.message}\n`);
      resolve(500);
    });
    child.on('close', (exitCode) => {
      if (!headersSent) {
        status = 500;
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited ${exitCode}: ${stderr}\n`);
      } else {
        res.end();
      }
      resolve(status);
    });
    req.pipe(child.stdin);
    // A client that hangs up mid-push must not leave the CGI waiting on stdin.
    child.stdin.on('error', () => undefined);
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
  });
}

function headerEnd(buffer: Buffer): { start: number; bodyStart: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { start: crlf, bodyStart: crlf + 4 };
  if (lf !== -1) return { start: lf, bodyStart: lf + 2 };
  return null;
}

/** CGI response headers: `Status: 404 Not Found` sets the code; the rest pass through. */
export function parseCgiHeaders(text: string): { code: number; headers: Record<string, string> } {
  let code = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') code = Number.parseInt(value, 10) || 200;
    else headers[name] = value;
  }
  return { code, headers };
}
