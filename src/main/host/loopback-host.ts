import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import { createHandlers, invokeOperation } from '../api/handlers';
import { mediaChunks, mediaHeaders, mediaRange, resolveMedia, type MediaBody } from '../api/media';
import { StudioSession } from '../api/session';
import type { Studio } from '../api/studio';
import { StudioError, toErrorBody } from '../errors';

export interface LoopbackHostOptions {
  /** What the host serves: a session (the user may open another project from the page), or one project. */
  studio: Studio | StudioSession;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  port?: number;
  /** Fixed token (tests, or the one this project's host had last time); a random one otherwise. */
  token?: string;
}

export interface LoopbackHost {
  /** The URL to open, token included. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'wavfusion_token';
const MAX_BODY_BYTES = 1024 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

const STATUS: Record<string, number> = {
  invalid_request: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unsupported: 422,
  internal: 500,
};

/**
 * Serves the renderer and the API on 127.0.0.1 only. Every request must carry the per-launch token:
 * in the URL the first time (it is then kept in a SameSite=Strict, HttpOnly cookie), in the cookie, or
 * as a Bearer header. The Host header must name the loopback address (no DNS rebinding).
 */
export async function startLoopbackHost(options: LoopbackHostOptions): Promise<LoopbackHost> {
  const session = StudioSession.of(options.studio);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const handlers = createHandlers(session);
  const rendererDir = path.resolve(options.rendererDir);
  let port = 0;

  const tokenOk = (candidate: string | null | undefined) => {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const authorised = (req: http.IncomingMessage, url: URL) => {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return false;
    // A page of another origin (another port on 127.0.0.1 is the same *site*, so the SameSite cookie goes
    // along) must not read the API or the event stream: every request that names an origin names ours.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`)
      return false;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return tokenOk(url.searchParams.get('token')) || tokenOk(bearer) || tokenOk(readCookie(req, COOKIE));
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err) => sendError(res, err));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = parseUrl(req.url);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (!authorised(req, url)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('WavFusion Studio: open the URL printed by `wavfusion serve` (it carries the access token).');
      return;
    }
    if (url.searchParams.get('token')) {
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') throw new StudioError('invalid_request', 'API calls are POST requests');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        throw new StudioError('invalid_request', 'API calls must send Content-Type: application/json');
      }
      const body = await readBody(req);
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body) : {};
      } catch {
        throw new StudioError('invalid_request', 'Request body is not valid JSON');
      }
      const output = await invokeOperation(handlers, url.pathname.slice(5), input);
      sendJson(res, 200, output === undefined ? null : output);
      return;
    }
    if (url.pathname.startsWith('/media/')) {
      const media = await resolveMedia(session.studio, url.pathname.slice(7) + url.search);
      await sendMedia(req, res, media);
      return;
    }
    await serveStatic(url.pathname, res);
  }

  async function serveStatic(pathname: string, res: http.ServerResponse): Promise<void> {
    const relative = pathname === '/' ? 'index.html' : decodePath(pathname).replace(/^\/+/, '');
    const file = path.resolve(rendererDir, relative);
    if (!file.startsWith(rendererDir + path.sep)) throw new StudioError('forbidden', 'outside the renderer folder');
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch {
      throw new StudioError('not_found', `No such file: ${pathname}`);
    }
    const isHtml = file.endsWith('.html');
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': isHtml ? 'no-store' : 'private, max-age=3600',
      ...(isHtml ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } : {}),
    });
    res.end(data);
  }

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    let url: URL;
    try {
      url = parseUrl(req.url);
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    if (url.pathname !== '/events' || !authorised(req, url)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });
  const clients = new Set<WebSocket>();
  sockets.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
  });
  const unsubscribe = session.subscribe((event, payload) => {
    const message = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(message);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    // The port is taken (EADDRINUSE): leave nothing subscribed, so the caller may try another.
    unsubscribe();
    sockets.close();
    throw err;
  }
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readCookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** A request URL, or a 400 for one that cannot be parsed. */
function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://127.0.0.1');
  } catch {
    throw new StudioError('invalid_request', 'Malformed request URL');
  }
}

/** A percent-decoded path, or a 400 for malformed escapes (a URIError would be a 500). */
function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    throw new StudioError('invalid_request', 'Malformed request URL (bad percent-encoding)');
  }
}

/** A body over MAX_BODY_BYTES: answered 413 once the client has finished sending (no reset). */
class BodyTooLargeError extends StudioError {
  constructor() {
    super('invalid_request', `Request body too large: the limit is ${MAX_BODY_BYTES / (1024 * 1024)} MB`);
  }
}

/** Past this much discarded body the connection is dropped rather than drained. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
      else if (size > MAX_DRAIN_BYTES) req.destroy();
    });
    req.on('end', () =>
      size > MAX_BODY_BYTES ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(data);
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const body = toErrorBody(err);
  if (body.code === 'internal') console.error(err);
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, err instanceof BodyTooLargeError ? 413 : (STATUS[body.code] ?? 500), body);
}

/** Sends bytes, honouring a single Range request (media elements seek with them). */
/** Resolves when the response can take more, or when it closed (a player that went away while it was full). */
function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Sends media, whole or the byte range asked for, made and written a chunk at a time (with backpressure). */
async function sendMedia(req: http.IncomingMessage, res: http.ServerResponse, media: MediaBody): Promise<void> {
  const range = mediaRange(req.headers.range, media.size);
  if (range.status === 416) {
    res.writeHead(416, { 'Content-Range': `bytes */${media.size}` });
    res.end();
    return;
  }
  const chunks = mediaChunks(media, range.start, range.end);
  // the first chunk before the head: a clip that cannot be made is an error response, not a cut one
  const first = await chunks.next();
  res.writeHead(range.status, { ...mediaHeaders(media, range), 'Cache-Control': 'no-store' });
  try {
    for (let next = first; !next.done; next = await chunks.next()) {
      if (res.destroyed) return; // the player moved on (a seek, another clip)
      if (!res.write(next.value)) await drainedOrClosed(res);
    }
    res.end();
  } catch {
    res.destroy(); // headers are gone: the player sees a cut response and asks again
  }
}
