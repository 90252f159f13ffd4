/**
 * The Node `http` adapter: turns an `IncomingMessage` into a core request and
 * writes the core response to a `ServerResponse`, with backpressure and with
 * a client disconnect turned into an `AbortSignal`.
 *
 * It is the last line of defence between a response and the process: nothing
 * thrown while writing (an invalid status or header value at `writeHead`, an
 * Early Hints value, a rejection during the body drain) escapes the request
 * listener. A head that cannot be written becomes a clean 500; a body that
 * fails mid-stream ends that response only.
 *
 * It also bounds what one client can hold: a response whose client takes no
 * bytes for `sendTimeout` ms while some are waiting, or that holds more than
 * `maxBufferedBytes` for a client that does not read, is closed, counted and
 * logged once (see {@link StallWatch}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { brotliCompressSync, constants as zlib, createBrotliCompress, createGzip, gzipSync, type BrotliCompress, type Gzip } from 'node:zlib';
import { pickEncoding } from '../assets/store.ts';
import { drainTo, type Sink } from '../render/chunks.ts';
import { handle, type CoreRequest, type CoreResponse, type Engine } from '../handle.ts';
import type { RequestEnd, RequestHeaders } from '../wire.ts';
import { HeaderList, isHeaderValue, type HeaderFields } from '../header-values.ts';
import { errorFields, safeString, writesAt, type Logger } from '../log.ts';

/** Default `sendTimeout`: a client that takes nothing for this long is closed. */
export const DEFAULT_SEND_TIMEOUT = 30_000;
/** Default `maxBufferedBytes`: most bytes held for one client that does not read. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * Most compressed responses at once, per encoding. A compressor holds its
 * state for as long as its client takes to read (brotli at quality 4 about
 * 2 MB, gzip about 270 KB, measured with stalled clients), so with many slow
 * clients compression is what fills memory (1,000 stalled clients: about
 * 2 GB with brotli for each). Past these counts a response falls back to
 * gzip, then to no compression; 16 brotli streams already keep the zlib
 * thread pool's four threads busy.
 */
export const MAX_COMPRESSORS = { br: 16, gzip: 128 } as const;

/** The encoding for a page: the client's choice, within {@link MAX_COMPRESSORS}. */
function chooseEncoding(accept: string | null, active: { br: number; gzip: number }): 'br' | 'gzip' | undefined {
  let encoding = pickEncoding(accept);
  if (encoding === 'br' && active.br >= MAX_COMPRESSORS.br) {
    encoding = pickEncoding(accept!.replace(/(^|,)\s*br\s*(;[^,]*)?(?=,|$)/gi, '$1'));
  }
  if (encoding === 'gzip' && active.gzip >= MAX_COMPRESSORS.gzip) encoding = undefined;
  return encoding;
}

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
    if (this.closed) return false;
    if (!this.corked) {
      this.corked = true;
      res.cork();
      process.nextTick(() => this.flush());
    }
    // Encoding once here spares Node a second pass over the string (it would
    // measure its byte length for the chunk header, then encode it).
    return res.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  /** Ends the response: with the corked writes, in one system call. */
  end(): void {
    if (!this.closed) this.res.end();
  }
  /** Sends the corked writes now (before a heavy render takes the thread), not on the next tick. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    if (!this.res.destroyed) this.res.uncork();
  }
  drain(): Promise<void> {
    return this.closed ? Promise.resolve() : drainOrClose(this.res, this.res);
  }
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }
}

/** The compression settings (brotli at quality 4, or gzip at level 4: cheap settings that still shrink a page about tenfold). */
const BROTLI_PARAMS = { [zlib.BROTLI_PARAM_QUALITY]: 4, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT };
const GZIP_LEVEL = 4;

/**
 * Whole bodies compressed once: a body the drain hands over whole is a
 * buffer the run memo keeps (chunks.ts), the same object for every request
 * with that body — a fully cached page. Its second sighting compresses it
 * (synchronously, once) and later requests write the compressed bytes; the
 * first streams through a compressor as any page does, so a body seen once
 * costs no blocking compression. Entries live as long as the run memo keeps
 * the body.
 */
const wholeBodies = new WeakMap<Uint8Array, { br?: Buffer; gzip?: Buffer }>();

function compressedWhole(body: Uint8Array, encoding: 'br' | 'gzip'): Buffer | undefined {
  const known = wholeBodies.get(body);
  if (known === undefined) {
    wholeBodies.set(body, {});
    return undefined;
  }
  return (known[encoding] ??= encoding === 'br' ? brotliCompressSync(body, { params: BROTLI_PARAMS }) : gzipSync(body, { level: GZIP_LEVEL }));
}

/**
 * A sink that compresses into a Node response. `flush()` pushes out what
 * was compressed so far, so the early-flush promise holds with compression
 * too: Atoll flushes before every wait. The compressor is made on the first
 * write: a whole body compressed before ({@link compressedWhole}) needs none.
 */
export class CompressedResponseSink implements Sink {
  private zs: BrotliCompress | Gzip | undefined;
  private wroteWhole = false;
  private ended = false;
  constructor(
    private readonly res: ServerResponse,
    private readonly encoding: 'br' | 'gzip',
  ) {}
  /** The compressor, once there is one. */
  get z(): BrotliCompress | Gzip | undefined {
    return this.zs;
  }
  private compressor(): BrotliCompress | Gzip {
    if (this.zs !== undefined) return this.zs;
    const res = this.res;
    const z = this.encoding === 'br' ? createBrotliCompress({ params: BROTLI_PARAMS }) : createGzip({ level: GZIP_LEVEL });
    z.on('error', () => res.destroy());
    res.on('close', () => z.destroy());
    z.pipe(res);
    return (this.zs = z);
  }
  write(chunk: string | Uint8Array): boolean {
    if (this.closed) return false;
    return this.compressor().write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  writeWhole(body: Uint8Array): void {
    if (this.closed) return;
    const done = this.zs === undefined ? compressedWhole(body, this.encoding) : undefined;
    if (done === undefined) this.compressor().write(body);
    else {
      this.wroteWhole = true;
      this.res.write(done);
    }
  }
  /** Settles once the compressor has handed what it holds to the response. */
  flush(): Promise<void> | void {
    const z = this.zs;
    if (this.closed || z === undefined) return;
    return new Promise((resolve) => z.flush(() => resolve()));
  }
  drain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.zs === undefined ? drainOrClose(this.res, this.res) : drainOrClose(this.zs, this.res);
  }
  /** Ends the compressed stream (and so the response); once. */
  end(): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    if (this.wroteWhole) this.res.end();
    else this.compressor().end();
  }
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded || (this.zs?.destroyed ?? false);
  }
}

/**
 * The response's headers in `writeHead`'s form: a page's plain-data
 * `HeaderList` becomes a flat `[name, value, …]` list (made here, at the
 * edge, and nowhere before); other `Headers` a Node header object (keeping
 * every Set-Cookie). Both send the same header lines in the same order.
 */
export function toNodeHeaders(headers: HeaderFields): Record<string, string | string[]> | string[] {
  if (headers instanceof HeaderList) return headers.toNodeArray();
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

/**
 * A request's headers read straight from Node's raw header lines: a
 * name's fields joined as `Headers.get` joins them (`, `; `; ` for
 * `Cookie`), found by a
 * case-insensitive scan (a request has a few dozen lines, and the core asks
 * for a handful of names), so no `Headers` object is built per request.
 * HTTP/2's pseudo-headers (`:path`, …, listed among the raw ones by
 * node:http2's compatibility API) are not headers.
 */
export class RawRequestHeaders implements RequestHeaders {
  constructor(private readonly raw: readonly string[]) {}
  get(name: string): string | null {
    const want = name.toLowerCase();
    const raw = this.raw;
    let out: string | null = null;
    const separator = want === 'cookie' ? '; ' : ', ';
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const n = raw[i]!;
      if (n.length !== want.length || n.charCodeAt(0) === 58 || n.toLowerCase() !== want) continue;
      // Headers.get gives values without leading and trailing white space (Node's parser has trimmed them already).
      let v = raw[i + 1]!;
      if (v.length > 0 && (isOws(v.charCodeAt(0)) || isOws(v.charCodeAt(v.length - 1)))) v = v.replace(OWS, '');
      out = out === null ? v : `${out}${separator}${v}`;
    }
    return out;
  }
}
const OWS = /^[\t ]+|[\t ]+$/g;
const isOws = (c: number): boolean => c === 32 || c === 9;

/**
 * A request's end for the core (`RequestEnd`): listeners called once when
 * the client goes away or the response fails — no AbortSignal per request
 * (making one was 3% of a cached page's CPU).
 */
class RequestLifetime implements RequestEnd {
  private listeners: Array<(reason: unknown) => void> | undefined;
  private reason: unknown;
  ended = false;
  onEnd(listener: (reason: unknown) => void): void {
    if (this.ended) queueMicrotask(() => listener(this.reason));
    else (this.listeners ??= []).push(listener);
  }
  finish(reason: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const l of listeners ?? []) {
      try {
        l(reason);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}

/** Limits on what one client may hold (from `site.config`, or given to {@link nodeHandler}). */
export interface TransportLimits {
  /** A response whose client takes no bytes for this long while some wait is closed (ms). */
  sendTimeout: number;
  /** A response holding more than this many bytes for a client that does not read is closed. */
  maxBufferedBytes: number;
}

/** Counters of the Node adapter (for tests, a log line, a metrics endpoint). */
export interface TransportStats {
  /** Responses being written now. */
  inFlight: number;
  /** Of those, the ones being compressed (bounded by {@link MAX_COMPRESSORS}). */
  compressing: number;
  /** Responses closed because their client took nothing for `sendTimeout` ms. */
  sendTimeouts: number;
  /** Responses closed because they held more than `maxBufferedBytes` for a client that did not read. */
  bufferLimits: number;
  /** `sendTimeouts + bufferLimits`. */
  stalledClosed: number;
  /** Heads that could not be written (answered 500 instead). */
  headFailures: number;
  /** Bodies that failed while streaming (that response was ended). */
  bodyFailures: number;
}

/** The Node handler, with its counters. */
export type NodeHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  stats(): TransportStats;
};

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

/** The limits a site's config asks for, with the defaults. */
export function limitsFromConfig(config: unknown): TransportLimits {
  const c = (typeof config === 'object' && config !== null ? config : {}) as { sendTimeout?: unknown; maxBufferedBytes?: unknown };
  return {
    sendTimeout: positive(c.sendTimeout) ?? DEFAULT_SEND_TIMEOUT,
    maxBufferedBytes: positive(c.maxBufferedBytes) ?? DEFAULT_MAX_BUFFERED_BYTES,
  };
}

/** One response being watched for a stalled client. */
interface Watched {
  res: ServerResponse;
  /** The compressing sink, if any (its compressor is made on its first write). */
  compressed: CompressedResponseSink | undefined;
  requestId: string;
  /** Bytes the socket had handed to the kernel at the last look. */
  sent: number;
  /** When bytes last moved (or nothing was waiting). */
  since: number;
  /** Set once the response was closed for its client. */
  closedFor?: 'send-timeout' | 'buffer-limit';
}

/** What a socket says about its writes (two of these are Node internals, read defensively). */
interface SocketWrites {
  bytesWritten: number;
  writableLength: number;
  _bytesDispatched?: unknown;
  _handle?: { writeQueueSize?: unknown } | null;
}

/**
 * Bytes that this socket handed to the kernel so far. One large write that
 * the kernel takes in parts counts as it goes: `_bytesDispatched` minus
 * libuv's `writeQueueSize`. Without those internals, the public
 * `bytesWritten - writableLength` counts completed writes only.
 */
function sentBytes(socket: Socket | null): number {
  if (socket === null) return 0;
  const s = socket as unknown as SocketWrites;
  const dispatched = s._bytesDispatched;
  const queued = s._handle?.writeQueueSize;
  const n = typeof dispatched === 'number' && typeof queued === 'number' ? dispatched - queued : s.bytesWritten - s.writableLength;
  return Number.isFinite(n) ? n : 0;
}

/** Bytes waiting for one client: the response's and socket's buffers, plus the compressor's. */
function bufferedBytes(w: Watched): number {
  const z = w.compressed?.z;
  return w.res.writableLength + (z === undefined ? 0 : z.writableLength + z.readableLength);
}

/**
 * Watches the responses being written with one timer for all of them (it
 * runs only while there are some): a response with bytes waiting whose
 * socket took none for `sendTimeout` ms is closed; so is one holding more
 * than `maxBufferedBytes` whose socket took none for a second.
 */
class StallWatch {
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;
  readonly tick: number;
  /**
   * How long a response over `maxBufferedBytes` may go without its socket
   * taking bytes. Not one tick: the kernel wakes a writer only once a good
   * part of its send buffer is free, so even a steady reader shows no
   * progress for a few hundred ms at a time.
   */
  private readonly overLimitGrace: number;
  constructor(
    private readonly limits: TransportLimits,
    private readonly onStalled: (w: Watched, reason: 'send-timeout' | 'buffer-limit', buffered: number) => void,
  ) {
    this.tick = Math.max(20, Math.min(1000, Math.floor(limits.sendTimeout / 4)));
    this.overLimitGrace = Math.min(limits.sendTimeout, 1000);
  }
  get size(): number {
    return this.watched.size;
  }
  add(w: Watched): void {
    this.watched.add(w);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.tick);
      this.timer.unref();
    }
  }
  delete(w: Watched): void {
    this.watched.delete(w);
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
  private sweep(): void {
    const now = performance.now();
    for (const w of this.watched) {
      if (w.res.destroyed || w.res.writableFinished) {
        this.delete(w);
        continue;
      }
      const sent = sentBytes(w.res.socket);
      const buffered = bufferedBytes(w);
      if (sent !== w.sent || buffered === 0) {
        w.sent = sent;
        w.since = now;
        continue;
      }
      const idle = now - w.since;
      const reason = buffered > this.limits.maxBufferedBytes && idle >= this.overLimitGrace ? 'buffer-limit' : idle >= this.limits.sendTimeout ? 'send-timeout' : undefined;
      if (reason !== undefined) {
        this.delete(w);
        this.onStalled(w, reason, buffered);
      }
    }
  }
}

/** A logger call that cannot throw (an operator's logger might). */
function safeLog(logger: Logger, level: 'debug' | 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
  try {
    logger[level]?.(fields, message);
  } catch {
    // nothing sensible left to do
  }
}

const INTERNAL_ERROR = 'Internal Server Error\n';

/**
 * How a request is answered: `handle(engine, req)` by default; the
 * generation manager (deploys/generations.ts) forwards it to a worker. A
 * POST's `body` (the request stream, unread) and `secure` (TLS) are for the
 * manager's own admin endpoints on this thread; the core reads no bodies.
 */
export type Respond = (req: CoreRequest & { body?: AsyncIterable<Uint8Array>; secure?: boolean }) => CoreResponse | Promise<CoreResponse>;

/**
 * Builds the `(req, res)` handler for Node's `http` server. `limits`
 * defaults to the site config's `sendTimeout` and `maxBufferedBytes`;
 * `respond` to answering through `handle(engine, …)` in this thread.
 */
export function nodeHandler(
  engine: Engine,
  limits: TransportLimits = limitsFromConfig(engine.site.config),
  respondWith: Respond = (req) => handle(engine, req),
): NodeHandler {
  const stats = { sendTimeouts: 0, bufferLimits: 0, headFailures: 0, bodyFailures: 0 };
  const compressors = { br: 0, gzip: 0 };
  let inFlight = 0;
  const watch = new StallWatch(limits, (w, reason, buffered) => {
    w.closedFor = reason;
    if (reason === 'send-timeout') stats.sendTimeouts++;
    else stats.bufferLimits++;
    safeLog(
      engine.logger,
      'warn',
      { requestId: w.requestId, reason, bufferedBytes: buffered, sendTimeout: limits.sendTimeout, maxBufferedBytes: limits.maxBufferedBytes },
      reason === 'send-timeout' ? 'closed a client that took nothing for sendTimeout' : 'closed a client that does not read (maxBufferedBytes)',
    );
    w.res.destroy();
  });

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const lifetime = new RequestLifetime();
    let requestId = '-';
    let status = 0;
    let watched: Watched | undefined;
    let logged = false;
    inFlight++;
    // A write after the end or a socket error must not become an uncaught 'error'.
    res.on('error', () => {});
    res.once('close', () => {
      inFlight--;
      if (watched !== undefined) watch.delete(watched);
      if (!res.writableFinished) lifetime.finish(new Error('the client went away'));
    });
    const log = (): void => {
      if (logged) return;
      logged = true;
      // A logger that drops info lines (its level, read each time: it may change) gets no request line built.
      if (!writesAt(engine.logger, 'info')) return;
      safeLog(
        engine.logger,
        'info',
        {
          requestId,
          method: req.method,
          path: (req.url ?? '/').split('?')[0],
          status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          aborted: lifetime.ended || undefined,
          closed: watched?.closedFor,
        },
        'request',
      );
    };
    /** The last resort when anything in here throws: a clean 500 if the head is not out yet, else the end of this response. */
    const fail = (e: unknown, message: string, counter: 'headFailures' | 'bodyFailures'): void => {
      stats[counter]++;
      safeLog(engine.logger, 'error', { requestId, ...errorFields(e) }, message);
      try {
        if (!res.headersSent && !res.destroyed) {
          for (const name of res.getHeaderNames()) res.removeHeader(name);
          res.writeHead(500, {
            'content-type': 'text/plain; charset=utf-8',
            'content-length': String(Buffer.byteLength(INTERNAL_ERROR)),
            'cache-control': 'no-store',
            'x-content-type-options': 'nosniff',
            connection: 'close',
          });
          res.end(req.method === 'HEAD' ? undefined : INTERNAL_ERROR);
          status = 500;
        } else {
          res.destroy();
        }
      } catch {
        res.destroy();
      }
      lifetime.finish(new Error('the response failed'));
      log();
    };

    const respond = (response: CoreResponse): void => {
      requestId = typeof response.requestId === 'string' ? response.requestId : '-';
      status = response.status;
      if (res.destroyed) {
        log();
        return;
      }
      const body = response.body;
      const accept = headers.get('accept-encoding');
      // A body of known length (a large public/ file, a range of one) goes as it is.
      const compressible = body.kind === 'html' && engine.compress !== false && !response.headers.has('content-length');
      const encoding = compressible ? chooseEncoding(accept, compressors) : undefined;
      if (compressible && encoding !== pickEncoding(accept)) {
        safeLog(engine.logger, 'debug', { requestId, wanted: pickEncoding(accept), sent: encoding ?? 'identity', compressing: { ...compressors } }, 'compressor limit reached: this page is compressed less');
      }
      if (encoding !== undefined) {
        response.headers.set('content-encoding', encoding);
        const vary = response.headers.get('vary');
        if (vary === null) response.headers.set('vary', 'Accept-Encoding');
        else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary)) response.headers.set('vary', `${vary}, Accept-Encoding`);
      }
      try {
        res.writeHead(response.status, toNodeHeaders(response.headers));
      } catch (e) {
        fail(e, 'the response head could not be written; answered 500', 'headFailures');
        return;
      }
      if (req.method === 'HEAD' || body.kind === 'none') {
        lifetime.finish(new Error('no body'));
        res.end();
        log();
        return;
      }
      const compressed = body.kind === 'html' && encoding !== undefined ? new CompressedResponseSink(res, encoding) : undefined;
      if (encoding !== undefined && compressed !== undefined) {
        compressors[encoding]++;
        res.once('close', () => compressors[encoding]--);
      }
      watched = { res, compressed, requestId, sent: sentBytes(res.socket), since: performance.now() };
      watch.add(watched);
      if (body.kind === 'text' || body.kind === 'bytes') {
        res.end(body.kind === 'text' ? body.text : body.data);
        log();
        return;
      }
      const sink = compressed ?? new NodeResponseSink(res);
      drainTo(body.result, sink)
        .then(() => {
          sink.end(); // drainTo has ended it (this is a no-op then) unless the client went away
          log();
        })
        .catch((e: unknown) => fail(e, 'rendering failed mid-stream', 'bodyFailures'));
    };

    const headers = new RawRequestHeaders(req.rawHeaders);
    try {
      const early = req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
      let hintsFailed = false;
      const response = respondWith({
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        headers,
        ...(req.method === 'POST' ? { body: req, secure: (req.socket as { encrypted?: boolean }).encrypted === true } : {}),
        end: lifetime,
        onEarlyHints: early
          ? (links) => {
              if (hintsFailed || res.headersSent || res.destroyed) return;
              try {
                // Node writes Early Hints straight to the socket: it throws on
                // CR LF but lets other control characters through, which
                // corrupt the response. A link that is not a valid header
                // value is left out here (and the others still go).
                const good = [...links].filter((l) => isHeaderValue(l));
                if (good.length < links.length) {
                  safeLog(engine.logger, 'warn', { links: safeString(links.filter((l) => !isHeaderValue(l))) }, 'Early Hints could not be written; left out');
                }
                if (good.length > 0) res.writeEarlyHints({ link: good });
              } catch (e) {
                hintsFailed = true;
                safeLog(engine.logger, 'warn', { links: safeString(links), ...errorFields(e) }, 'Early Hints could not be written; left out');
              }
            }
          : undefined,
      });
      if (response instanceof Promise) {
        response.then(
          (r) => {
            try {
              respond(r);
            } catch (e) {
              fail(e, 'writing the response failed', 'headFailures');
            }
          },
          (e: unknown) => fail(e, 'the request failed', 'headFailures'),
        );
      } else respond(response);
    } catch (e) {
      fail(e, 'writing the response failed', 'headFailures');
    }
  };
  return Object.assign(handler, {
    stats: (): TransportStats => ({
      inFlight,
      compressing: compressors.br + compressors.gzip,
      ...stats,
      stalledClosed: stats.sendTimeouts + stats.bufferLimits,
    }),
  });
}
