/**
 * The Node `http` adapter: turns an `IncomingMessage` into a core request and
 * writes the core response to a `ServerResponse`, with backpressure and with
 * a client disconnect turned into an `AbortSignal`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as zlib, createBrotliCompress, createGzip, type BrotliCompress, type Gzip } from 'node:zlib';
import { pickEncoding } from '../assets/store.ts';
import { drainTo, type Sink } from '../render/chunks.ts';
import { handle, type CoreResponse, type Engine } from '../handle.ts';
import { errorFields } from '../log.ts';

/** Resolves on `writable`'s next 'drain' or when the response closes, whichever is first. */
function drainOrClose(writable: NodeJS.EventEmitter, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      writable.off('drain', done);
      res.off('close', done);
      resolve();
    };
    writable.on('drain', done);
    res.on('close', done);
  });
}

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
    return this.closed ? Promise.resolve() : drainOrClose(this.res, this.res);
  }
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }
}

/**
 * A sink that compresses (brotli at quality 4, or gzip at level 4: cheap
 * settings that still shrink a page about tenfold) into a Node response.
 * `flush()` pushes out what was compressed so far, so the early-flush
 * promise holds with compression too: Atoll flushes before every wait.
 */
export class CompressedResponseSink implements Sink {
  private readonly z: BrotliCompress | Gzip;
  constructor(
    private readonly res: ServerResponse,
    encoding: 'br' | 'gzip',
  ) {
    this.z =
      encoding === 'br'
        ? createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 4, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } })
        : createGzip({ level: 4 });
    this.z.on('error', (e) => res.destroy(e));
    res.on('close', () => this.z.destroy());
    this.z.pipe(res);
  }
  write(chunk: string | Uint8Array): boolean {
    return this.z.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  flush(): void {
    if (!this.closed) this.z.flush();
  }
  drain(): Promise<void> {
    return this.closed ? Promise.resolve() : drainOrClose(this.z, this.res);
  }
  /** Ends the compressed stream (and so the response). */
  end(): void {
    if (!this.closed) this.z.end();
  }
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded || this.z.destroyed;
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
      const body0 = response.body;
      const encoding = body0.kind === 'html' && engine.compress !== false ? pickEncoding(headers.get('accept-encoding')) : undefined;
      if (encoding !== undefined) {
        response.headers.set('content-encoding', encoding);
        const vary = response.headers.get('vary');
        if (vary === null) response.headers.set('vary', 'Accept-Encoding');
        else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary)) response.headers.set('vary', `${vary}, Accept-Encoding`);
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
      const compressed = encoding !== undefined ? new CompressedResponseSink(res, encoding) : undefined;
      drainTo(body.result, compressed ?? new NodeResponseSink(res)).then(
        () => {
          if (compressed !== undefined) compressed.end();
          else if (!res.destroyed) res.end();
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
