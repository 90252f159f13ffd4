/**
 * The Node `http` adapter: turns an `IncomingMessage` into a core request and
 * writes the core response to a `ServerResponse`, with backpressure and with
 * a client disconnect turned into an `AbortSignal`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { drainTo, type Sink } from '../render/chunks.ts';
import { handle, type CoreResponse, type Engine } from '../handle.ts';
import { errorFields } from '../log.ts';

/**
 * A sink over a Node response. Writes made in one synchronous stretch are
 * corked together and leave in one `writev` on the next tick.
 */
export class NodeResponseSink implements Sink {
  private corked = false;
  constructor(private readonly res: ServerResponse) {}
  write(chunk: string | Uint8Array): boolean {
    const res = this.res;
    if (!this.corked) {
      this.corked = true;
      res.cork();
      process.nextTick(() => {
        this.corked = false;
        res.uncork();
      });
    }
    // Encoding once here spares Node a second pass over the string (it would
    // measure its byte length for the chunk header, then encode it).
    return res.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  drain(): Promise<void> {
    const res = this.res;
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }
}

/** Copies `Headers` into a Node header object (keeping every Set-Cookie). */
export function toNodeHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

/** Builds the `(req, res)` handler for Node's `http` server. */
export function nodeHandler(engine: Engine): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the client went away'));
    });
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
    const respond = (response: CoreResponse): void => {
      const log = (): void => {
        engine.logger.info(
          {
            requestId: response.requestId,
            method: req.method,
            path: (req.url ?? '/').split('?')[0],
            status: response.status,
            ms: Math.round((performance.now() - started) * 10) / 10,
            aborted: controller.signal.aborted || undefined,
          },
          'request',
        );
      };
      if (res.destroyed) {
        log();
        return;
      }
      res.writeHead(response.status, toNodeHeaders(response.headers));
      const body = response.body;
      if (req.method === 'HEAD' || body.kind === 'none') {
        controller.abort(new Error('no body'));
        res.end();
        log();
        return;
      }
      if (body.kind === 'text' || body.kind === 'bytes') {
        res.end(body.kind === 'text' ? body.text : body.data);
        log();
        return;
      }
      drainTo(body.result, new NodeResponseSink(res)).then(
        () => {
          if (!res.destroyed) res.end();
          log();
        },
        (e: unknown) => {
          engine.logger.error({ requestId: response.requestId, ...errorFields(e) }, 'rendering failed mid-stream');
          res.destroy(e instanceof Error ? e : new Error(String(e)));
          controller.abort(e);
          log();
        },
      );
    };
    const early = req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
    const response = handle(engine, {
      method: req.method ?? 'GET',
      target: req.url ?? '/',
      headers,
      signal: controller.signal,
      onEarlyHints: early ? (links) => res.writeEarlyHints({ link: [...links] }) : undefined,
    });
    if (response instanceof Promise) void response.then(respond);
    else respond(response);
  };
}
