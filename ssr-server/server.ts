/**
 * The HTTP server around an Atoll handler: what a process needs to be run by
 * an orchestrator, kept out of the core renderer.
 *
 * - It listens before the site is loaded: until {@link AtollServer.ready}
 *   hands it a handler, every request gets `503` with `Retry-After: 1`.
 * - `GET|HEAD /_atoll/health` answers liveness and readiness: `503
 *   {"status":"starting"}`, `200 {"status":"ready"}`, `503
 *   {"status":"draining"}`.
 * - `close({ drainMs })` is a graceful shutdown: stop accepting, let the
 *   responses in flight finish (up to `drainMs`, then destroy what is left),
 *   close idle keep-alive connections as they become idle.
 * - Clients that trickle their request head (slowloris) are cut after
 *   `headersTimeout`, checked every second rather than Node's default 30 s;
 *   a connection that sends nothing is closed too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorFields, type Logger } from './log.ts';

/** Where liveness and readiness are answered. */
export const HEALTH_PATH = '/_atoll/health';

/** Default time allowed for responses in flight on shutdown. */
export const DEFAULT_DRAIN_TIMEOUT = 10_000;

/** Where a server is in its life. */
export type Readiness = 'starting' | 'ready' | 'draining';

/** A Node request handler. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Options for {@link startServer}. */
export interface ServerOptions {
  /** Port (0 picks a free one; default 3000). */
  port?: number;
  /** Host (default 127.0.0.1). */
  host?: string;
  /** Longest time a client may take to send a request head, in ms (default 10 s). */
  headersTimeout?: number;
  /** Longest time a client may take to send a whole request, in ms (default 30 s). */
  requestTimeout?: number;
  /** How long an idle keep-alive connection stays open, in ms (default 5 s). */
  keepAliveTimeout?: number;
  /** Where the server's own lines go (shutdown, failures). */
  logger?: Logger;
}

/** What {@link AtollServer.close} did. */
export interface CloseResult {
  /** Responses that were still in flight when the drain time ran out (destroyed). */
  destroyed: number;
  /** How long the drain took, in ms. */
  ms: number;
}

/** A listening server. */
export interface AtollServer {
  server: Server;
  /** The base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  readonly state: Readiness;
  /** Responses being answered now. */
  readonly inFlight: number;
  /** Starts serving with `handler` (the state becomes `ready`). */
  ready(handler: RequestHandler): void;
  /**
   * Stops accepting connections, lets the responses in flight finish (at
   * most `drainMs`, default 10 s; then they are destroyed) and closes idle
   * connections. Resolves once every connection is gone.
   */
  close(options?: { drainMs?: number }): Promise<CloseResult>;
}

const HEALTH_STATUS: Record<Readiness, number> = { starting: 503, ready: 200, draining: 503 };

function plain(res: ServerResponse, status: number, body: string, headers: Record<string, string>, head: boolean): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(head ? undefined : body);
}

function pathOf(target: string | undefined): string {
  const t = target ?? '/';
  const q = t.indexOf('?');
  return q === -1 ? t : t.slice(0, q);
}

/** Creates Node's HTTP server with Atoll's front (health, readiness, drain) and starts listening. */
export async function startServer(options: ServerOptions = {}): Promise<AtollServer> {
  let state: Readiness = 'starting';
  let handler: RequestHandler | undefined;
  let inFlight = 0;
  const logger = options.logger;
  const requestTimeout = options.requestTimeout ?? 30_000;
  const headersTimeout = Math.min(options.headersTimeout ?? 10_000, requestTimeout);
  const seenRequest = new WeakSet<object>();
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: options.keepAliveTimeout ?? 5000,
      // Node checks the two timeouts above every 30 s by default, so a
      // trickling client would hold its connection up to 30 s longer.
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      seenRequest.add(req.socket);
      inFlight++;
      res.once('close', () => {
        inFlight--;
        // A response that finished while draining leaves an idle keep-alive connection behind.
        if (state === 'draining') setImmediate(() => server.closeIdleConnections());
      });
      try {
        const head = req.method === 'HEAD';
        if (pathOf(req.url) === HEALTH_PATH) {
          if (req.method !== 'GET' && !head) {
            plain(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' }, false);
            return;
          }
          const body = JSON.stringify({ status: state }) + '\n';
          res.writeHead(HEALTH_STATUS[state], {
            'content-type': 'application/json; charset=utf-8',
            'content-length': String(Buffer.byteLength(body)),
            'cache-control': 'no-store',
            'x-content-type-options': 'nosniff',
            ...(state === 'ready' ? {} : { 'retry-after': '1' }),
            ...(state === 'draining' ? { connection: 'close' } : {}),
          });
          res.end(head ? undefined : body);
          return;
        }
        if (handler === undefined) {
          plain(res, 503, state === 'draining' ? 'Service Unavailable: shutting down\n' : 'Service Unavailable: starting\n', { 'retry-after': '1', connection: 'close' }, head);
          return;
        }
        // While draining, a request on a connection that was kept alive is
        // still answered, and its connection closed afterwards.
        if (state === 'draining') res.setHeader('connection', 'close');
        handler(req, res);
      } catch (e) {
        try {
          logger?.error({ ...errorFields(e) }, 'the request listener failed');
        } catch {
          // nothing left to do
        }
        res.destroy();
      }
    },
  );
  // Node's headersTimeout starts with a request's first byte: a connection
  // that sends nothing at all would stay open forever. One that has not
  // brought a whole request head by headersTimeout (plus Node's check
  // interval, so that a trickling client gets Node's 408 first) is closed.
  server.on('connection', (socket) => {
    const timer = setTimeout(() => {
      if (!seenRequest.has(socket)) socket.destroy();
    }, headersTimeout + 1000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<CloseResult> | undefined;
  return {
    server,
    url: `http://${shownHost}:${port}`,
    get state() {
      return state;
    },
    get inFlight() {
      return inFlight;
    },
    ready(h) {
      handler = h;
      if (state === 'starting') state = 'ready';
    },
    close({ drainMs = DEFAULT_DRAIN_TIMEOUT } = {}) {
      closing ??= new Promise((resolve) => {
        const started = performance.now();
        state = 'draining';
        let destroyed = 0;
        const timer = setTimeout(() => {
          destroyed = inFlight;
          if (destroyed > 0) {
            try {
              logger?.warn({ destroyed, drainMs }, 'responses still in flight at the drain timeout were cut off');
            } catch {
              // nothing left to do
            }
          }
          server.closeAllConnections();
        }, Math.max(0, drainMs));
        server.close(() => {
          clearTimeout(timer);
          resolve({ destroyed, ms: Math.round(performance.now() - started) });
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
