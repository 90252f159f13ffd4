/**
 * The request/response protocol between the main thread and a generation
 * worker (issue 16), over one `MessagePort` per worker with many requests
 * multiplexed on it by number.
 *
 * - **Main side** ({@link WorkerLink.forward}): a `CoreRequest` goes over as
 *   data (method, target, header lines); the answer's head (status, header
 *   pairs, request id) comes back first, and an html body becomes an
 *   `Output` whose thunk hands out the chunks the worker has posted so far,
 *   or a Promise of the next ones — so the main thread's `drainTo` flushes
 *   before every wait and the Node adapter keeps streaming, compression,
 *   Early Hints and its stall watch. Text and bytes bodies come whole.
 * - **Backpressure by credit**: the worker stops posting once
 *   {@link CREDIT_BYTES} bytes are unacknowledged; the main side
 *   acknowledges chunks as its drain takes them (a client that does not
 *   read stops the drain, so the acknowledgements, so the worker's render).
 * - **Early end**: the request's `end`/`signal` is posted to the worker,
 *   where it fires the core's `RequestEnd` (a page's data hooks see their
 *   signal abort) and closes the worker's sink.
 * - **A worker that dies** (or whose port closes) fails every request it had:
 *   before the head, the forward rejects (the Node adapter answers 500);
 *   after it, the body's next thunk throws (the adapter ends that response).
 *   Never the process.
 * - **Worker side** ({@link serve}): each request runs through `handle()` on
 *   the worker's engine; the body drains into a sink that posts chunks,
 *   transferring buffers it owns.
 *
 * The core reads no request bodies (the purge endpoint takes its tags from
 * the query), so none cross.
 */
import type { MessagePort } from 'node:worker_threads';
import { drainTo, type Output, type OutputThunk, type Piece, type Sink } from '../render/chunks.ts';
import { handle, type Engine } from '../handle.ts';
import { HeaderList } from '../header-values.ts';
import type { CoreRequest, CoreResponse, HeaderFields, RequestEnd, RequestHeaders } from '../wire.ts';

/** Bytes a worker may post for one response before the main side acknowledges them. */
export const CREDIT_BYTES = 256 * 1024;
/** Most request header lines forwarded (Node's own limit is 2000 lines; this is far above any real request). */
const MAX_HEADER_LINES = 400;

/** Main → worker. */
export type ToWorker =
  | { t: 'req'; n: number; method: string; target: string; headers: string[]; hints: boolean; page?: CoreRequest['page'] }
  | { t: 'ack'; n: number; bytes: number }
  | { t: 'end'; n: number; reason: string };

/** The body kinds as they cross (an html body's bytes follow as chunks). */
type WireBody = { kind: 'html' } | { kind: 'text'; text: string } | { kind: 'bytes'; data: Uint8Array } | { kind: 'none' };

/** Worker → main (per request; `generation-worker.ts` adds its own messages, without `n`). */
export type FromWorker =
  | { t: 'hints'; n: number; links: string[] }
  /**
   * The answer's head. An html body's first message rides along in `then`
   * when the body starts at once (a cached page: head and whole body are one
   * message, not two: one wake-up of each thread less per request).
   */
  | { t: 'head'; n: number; status: number; names: string[]; values: string[]; requestId: string; body: WireBody; then?: BodyMessage }
  | { t: 'chunk'; n: number; data: Uint8Array }
  /**
   * The whole body at once (the drain's `writeWhole`: one run joined by the
   * run memo), and its end. `id` names that buffer in the worker: the same
   * id, the same bytes. `data` is left out when the main side keeps that id
   * already (both sides run the same bounded LRU in message order).
   */
  | { t: 'whole'; n: number; id: number; size: number; data?: Uint8Array }
  | { t: 'done'; n: number }
  | { t: 'fail'; n: number; message: string };

/** What may follow a head in the same message. */
type BodyMessage = Extract<FromWorker, { t: 'chunk' | 'whole' | 'done' }>;

/** A request's header lines as a flat `[name, value, …]` list (Node's raw lines when the adapter gave them, else `forEach`). */
export function headerLines(headers: RequestHeaders): string[] {
  const raw = (headers as unknown as { raw?: unknown }).raw;
  if (Array.isArray(raw) && raw.every((v) => typeof v === 'string')) return (raw as string[]).slice(0, MAX_HEADER_LINES * 2);
  const out: string[] = [];
  const each = (headers as unknown as { forEach?: (cb: (value: string, name: string) => void) => void }).forEach;
  if (typeof each === 'function') {
    each.call(headers, (value, name) => {
      if (out.length < MAX_HEADER_LINES * 2) out.push(name, value);
    });
  }
  return out;
}

/** Request headers read from forwarded lines: the same joining as the Node adapter's `RawRequestHeaders`. */
export class LineHeaders implements RequestHeaders {
  constructor(readonly raw: readonly string[]) {}
  get(name: string): string | null {
    const want = name.toLowerCase();
    const separator = want === 'cookie' ? '; ' : ', ';
    let out: string | null = null;
    for (let i = 0; i + 1 < this.raw.length; i += 2) {
      const n = this.raw[i]!;
      if (n.length !== want.length || n.charCodeAt(0) === 58 || n.toLowerCase() !== want) continue;
      const v = this.raw[i + 1]!.replace(/^[\t ]+|[\t ]+$/g, '');
      out = out === null ? v : `${out}${separator}${v}`;
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/** Most bytes of whole bodies kept per worker link (on the main side; the worker mirrors it). */
const WHOLE_BYTES = 8 * 1024 * 1024;

/**
 * The whole bodies a link keeps, by the worker's id for them: a bounded
 * LRU that both sides run with the same operations in message order — the
 * main side on the bodies it receives, the worker on the ones it posts — so
 * the worker knows which bodies it need not send again. A cached page then
 * crosses as an id, not as a copy of its bytes.
 */
class WholeLru<V> {
  private readonly kept = new Map<number, { size: number; value: V }>();
  private bytes = 0;
  constructor(private readonly maxBytes = WHOLE_BYTES) {}
  /** The value kept for `id` (now the most recently used), if any. */
  touch(id: number): V | undefined {
    const k = this.kept.get(id);
    if (k === undefined) return undefined;
    this.kept.delete(id);
    this.kept.set(id, k);
    return k.value;
  }
  /** Keeps `value` for `id` (unless too large to keep), dropping the least recently used past the bound. */
  keep(id: number, size: number, value: V): void {
    const old = this.kept.get(id);
    if (old !== undefined) {
      this.kept.delete(id);
      this.bytes -= old.size;
    }
    if (size > this.maxBytes / 8) return;
    this.kept.set(id, { size, value });
    this.bytes += size;
    for (const [k, v] of this.kept) {
      if (this.bytes <= this.maxBytes) break;
      this.kept.delete(k);
      this.bytes -= v.size;
    }
  }
}

/** One response being received on the main side. */
interface Pending {
  resolve(r: CoreResponse): void;
  reject(e: Error): void;
  onHints?: (links: readonly string[]) => void;
  /** Set once the head arrived (an html body). */
  body?: BodyQueue;
  headed: boolean;
}

/** The chunks of one html body, as the worker posts them. */
class BodyQueue {
  chunks: Uint8Array[] = [];
  done = false;
  error: Error | undefined;
  waiting: { resolve: (v: Piece | Output) => void; reject: (e: Error) => void } | undefined;
  constructor(private readonly ack: (bytes: number) => void) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.wake();
  }
  /**
   * The whole body as two pieces, `[kept, EMPTY]`: the main thread's drain
   * joins a run of more than one piece through its run memo and hands it to
   * the sink's `writeWhole` — the same buffer for the same `kept` — so the
   * Node adapter compresses a cached page once, not per request.
   */
  pushWhole(kept: Uint8Array): void {
    this.chunks.push(kept, EMPTY);
    this.finish();
  }
  finish(error?: Error): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    this.wake();
  }
  private wake(): void {
    const w = this.waiting;
    if (w === undefined) return;
    this.waiting = undefined;
    try {
      const r = this.take();
      if (r instanceof Promise) r.then(w.resolve, w.reject);
      else w.resolve(r ?? []);
    } catch (e) {
      w.reject(e as Error);
    }
  }
  /** What the drain gets now: the chunks so far and another pull, nothing at the end, or a Promise when it must wait. */
  take(): void | Output | Promise<Piece | Output> {
    if (this.chunks.length > 0) {
      const out = this.chunks as Output;
      let bytes = 0;
      for (const c of this.chunks) bytes += c.byteLength;
      this.chunks = [];
      // After the end nothing more comes: no acknowledgement needed (a whole body is one message, and none).
      if (!this.done) this.ack(bytes);
      if (!this.done || this.error !== undefined) out.push(this.pull);
      return out;
    }
    if (this.error !== undefined) throw this.error;
    if (this.done) return undefined;
    return new Promise<Piece | Output>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }
  readonly pull: OutputThunk = () => this.take();
}

/** The main side of one worker's port. */
export interface WorkerLink {
  /** Sends a request to the worker; resolves with its head (html bodies stream after it). */
  forward(req: CoreRequest): Promise<CoreResponse>;
  /** Requests whose answer has not ended yet. */
  readonly inFlight: number;
  /**
   * Fails every request in flight (the worker died or was terminated):
   * those without a head reject, bodies end with the error.
   */
  failAll(reason: string): void;
  /** Called each time a request's answer ended (completed, failed or abandoned). */
  onIdle?: () => void;
}

/**
 * The main side of the protocol over `port`. Messages without a request
 * number (`generation-worker.ts`'s `ready`, `failed`, `log`) go to `other`.
 */
export function linkTo(port: MessagePort, other: (message: Record<string, unknown>) => void = () => {}): WorkerLink {
  const pending = new Map<number, Pending>();
  const wholes = new WholeLru<Uint8Array>();
  let next = 0;
  let dead: string | undefined;
  const post = (m: ToWorker): void => {
    if (dead !== undefined) return;
    try {
      port.postMessage(m);
    } catch {
      // the port closed: failAll follows
    }
  };
  const finished = (n: number): void => {
    if (!pending.delete(n)) return;
    // An idle link does not keep the process alive (a server does); one with requests in flight does.
    if (pending.size === 0) port.unref();
    link.onIdle?.();
  };
  const onMessage = (m: FromWorker | Record<string, unknown>): void => {
    if (typeof m !== 'object' || m === null) return;
    if (typeof (m as { n?: unknown }).n !== 'number') {
      other(m as Record<string, unknown>);
      return;
    }
    const msg = m as FromWorker;
    // Whole bodies update the kept set in message order even for a request that ended meanwhile: the worker mirrors it.
    let whole: Uint8Array | undefined;
    if (msg.t === 'whole') {
      if (msg.data !== undefined) wholes.keep(msg.id, msg.size, (whole = msg.data));
      else whole = wholes.touch(msg.id);
    }
    const p = pending.get(msg.n);
    if (p === undefined) return;
    switch (msg.t) {
      case 'hints':
        if (!p.headed) {
          try {
            p.onHints?.(msg.links);
          } catch {
            // the adapter's own guard logs; a hint is never worth a failure
          }
        }
        return;
      case 'head': {
        p.headed = true;
        const headers: HeaderFields = new HeaderList(msg.names, msg.values);
        if (msg.body.kind === 'html') {
          const n = msg.n;
          const queue = new BodyQueue((bytes) => post({ t: 'ack', n, bytes }));
          p.body = queue;
          p.resolve({ status: msg.status, headers, requestId: msg.requestId, body: { kind: 'html', result: [queue.pull] } });
          if (msg.then !== undefined) onMessage(msg.then);
        } else {
          finished(msg.n);
          p.resolve({ status: msg.status, headers, requestId: msg.requestId, body: msg.body });
        }
        return;
      }
      case 'chunk':
        p.body?.push(msg.data);
        return;
      case 'whole':
        if (whole === undefined) p.body?.finish(new Error('the worker sent a whole body the main side does not keep (protocol error)'));
        else p.body?.pushWhole(whole);
        finished(msg.n);
        return;
      case 'done':
        p.body?.finish();
        finished(msg.n);
        return;
      case 'fail': {
        const e = new Error(msg.message);
        if (p.body !== undefined) p.body.finish(e);
        else p.reject(e);
        finished(msg.n);
        return;
      }
    }
  };
  port.on('message', onMessage);
  port.unref();
  const link: WorkerLink = {
    get inFlight() {
      return pending.size;
    },
    forward(req) {
      if (dead !== undefined) return Promise.reject(new Error(`the generation is gone: ${dead}`));
      const n = ++next;
      return new Promise<CoreResponse>((resolve, reject) => {
        const p: Pending = { resolve, reject, onHints: req.onEarlyHints, headed: false };
        if (pending.size === 0) port.ref();
        pending.set(n, p);
        const onEnd = (reason: unknown): void => {
          if (!pending.has(n)) return;
          post({ t: 'end', n, reason: reason instanceof Error ? reason.message : String(reason) });
          // The client is gone: the drain stops (its sink is closed), nothing more comes, and that is no failure.
          p.body?.finish();
          finished(n);
        };
        req.end?.onEnd(onEnd);
        if (req.signal !== undefined) {
          if (req.signal.aborted) queueMicrotask(() => onEnd(req.signal!.reason));
          else req.signal.addEventListener('abort', () => onEnd(req.signal!.reason), { once: true });
        }
        post({
          t: 'req',
          n,
          method: req.method,
          target: req.target,
          headers: headerLines(req.headers),
          hints: req.onEarlyHints !== undefined,
          ...(req.page !== undefined ? { page: req.page } : {}),
        });
      });
    },
    failAll(reason) {
      dead ??= reason;
      const e = new Error(`the generation's worker stopped mid-response: ${reason}`);
      for (const [n, p] of [...pending]) {
        if (p.body !== undefined) p.body.finish(e);
        else p.reject(e);
        finished(n);
      }
    },
  };
  return link;
}

// ---------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------

/** A request's early end, fired by the main side's `end` message. */
class ForwardedEnd implements RequestEnd {
  private listeners: Array<(reason: unknown) => void> | undefined = [];
  private reason: unknown;
  onEnd(listener: (reason: unknown) => void): void {
    if (this.listeners === undefined) queueMicrotask(() => listener(this.reason));
    else this.listeners.push(listener);
  }
  get ended(): boolean {
    return this.listeners === undefined;
  }
  finish(reason: unknown): void {
    const ls = this.listeners;
    if (ls === undefined) return;
    this.listeners = undefined;
    this.reason = reason;
    for (const l of ls) {
      try {
        l(reason);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}

const encoder = new TextEncoder();

/** Ids of the whole bodies a worker posted (run-memo buffers: the same object, the same bytes). */
const wholeIds = new WeakMap<Uint8Array, number>();
let nextWholeId = 0;

/** What the worker side of one port shares between its responses. */
interface PortState {
  /** The mirror of the main side's kept whole bodies. */
  sent: WholeLru<true>;
}

/** A sink that posts each write as a chunk, holding back once {@link CREDIT_BYTES} are unacknowledged. */
class PortSink implements Sink {
  unacked = 0;
  private wroteWhole = false;
  private waiters: Array<() => void> = [];
  constructor(
    private readonly port: MessagePort,
    private readonly n: number,
    private readonly lifetime: ForwardedEnd,
    private readonly credit: number,
    private readonly shared: PortState,
    /** The head, until it is posted (with the first body message, or by `flush`). */
    private head: Extract<FromWorker, { t: 'head' }> | undefined,
  ) {}
  /** Posts `m`, carrying the head when it has not gone yet. */
  private post(m: BodyMessage, transfer?: ArrayBuffer[]): void {
    const head = this.head;
    this.head = undefined;
    this.port.postMessage(head === undefined ? m : ({ ...head, then: m } satisfies FromWorker), transfer);
  }
  /** The drain sends what it holds before every wait: the head at least, so the main side writes it now. */
  flush(): void {
    const head = this.head;
    if (head === undefined || this.closed) return;
    this.head = undefined;
    this.port.postMessage(head);
  }
  write(chunk: Piece): boolean {
    if (this.closed) return false;
    let data: Uint8Array;
    let transfer: ArrayBuffer[] | undefined;
    if (typeof chunk === 'string') {
      // Its own ArrayBuffer (never Buffer's shared pool), so it can be handed over without a copy.
      data = encoder.encode(chunk);
      transfer = [data.buffer as ArrayBuffer];
    } else {
      // Bytes the engine keeps (static parts, cached renders, joined runs): copied, never detached.
      data = chunk;
      if (chunk.byteOffset !== 0 || chunk.byteLength !== chunk.buffer.byteLength) data = chunk.slice();
    }
    this.unacked += data.byteLength;
    this.post({ t: 'chunk', n: this.n, data }, transfer);
    return this.unacked < this.credit;
  }
  acked(bytes: number): void {
    this.unacked = Math.max(0, this.unacked - bytes);
    if (this.unacked < this.credit) this.wake();
  }
  wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
  drain(): Promise<void> {
    if (this.closed || this.unacked < this.credit) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  /** The whole body (a run the run memo keeps): posted with its id and its end in one message. */
  writeWhole(body: Uint8Array): void {
    if (this.closed) return;
    let id = wholeIds.get(body);
    if (id === undefined) wholeIds.set(body, (id = ++nextWholeId));
    this.wroteWhole = true;
    const size = body.byteLength;
    if (this.shared.sent.touch(id) === true) this.post({ t: 'whole', n: this.n, id, size });
    else {
      this.shared.sent.keep(id, size, true);
      this.post({ t: 'whole', n: this.n, id, size, data: body });
    }
  }
  end(): void {
    if (!this.closed && !this.wroteWhole) this.post({ t: 'done', n: this.n });
  }
  get closed(): boolean {
    return this.lifetime.ended;
  }
}

/** Options of {@link serve} (tests use a small credit to see backpressure). */
export interface ServeOptions {
  credit?: number;
  /** Called when a request starts and ends (the worker's own bookkeeping, e.g. for logs). */
  onRequest?: (delta: 1 | -1) => void;
}

/**
 * The worker side: answers every `req` on `port` with `handle(engine, …)`.
 * Returns a function that stops listening.
 */
export function serve(port: MessagePort, engine: Engine, options: ServeOptions = {}): () => void {
  const credit = options.credit ?? CREDIT_BYTES;
  const active = new Map<number, { lifetime: ForwardedEnd; sink?: PortSink }>();
  const shared: PortState = { sent: new WholeLru<true>() };
  const send = (m: FromWorker, transfer?: ArrayBuffer[]): void => {
    try {
      port.postMessage(m, transfer);
    } catch {
      // the port closed: the main side has failed this request already
    }
  };
  const finish = (n: number): void => {
    if (active.delete(n)) options.onRequest?.(-1);
  };
  const start = (m: Extract<ToWorker, { t: 'req' }>): void => {
    const n = m.n;
    const lifetime = new ForwardedEnd();
    const state: { lifetime: ForwardedEnd; sink?: PortSink } = { lifetime };
    active.set(n, state);
    options.onRequest?.(1);
    const headed = (r: CoreResponse): void => {
      if (lifetime.ended) {
        finish(n);
        return;
      }
      const names: string[] = [];
      const values: string[] = [];
      r.headers.forEach((value, name) => {
        if (name.toLowerCase() === 'set-cookie') return;
        names.push(name.toLowerCase());
        values.push(value);
      });
      for (const c of r.headers.getSetCookie()) {
        names.push('set-cookie');
        values.push(c);
      }
      const b = r.body;
      const body: WireBody = b.kind === 'html' ? { kind: 'html' } : b;
      const head: Extract<FromWorker, { t: 'head' }> = { t: 'head', n, status: r.status, names, values, requestId: r.requestId, body };
      if (b.kind !== 'html') {
        send(head);
        finish(n);
        return;
      }
      // The head goes with the body's first message, or alone at the drain's first flush (before any wait).
      const sink = new PortSink(port, n, lifetime, credit, shared, head);
      state.sink = sink;
      drainTo(b.result, sink).then(
        () => finish(n),
        (e: unknown) => {
          if (!lifetime.ended) send({ t: 'fail', n, message: e instanceof Error ? e.message : String(e) });
          finish(n);
        },
      );
    };
    try {
      const response = handle(engine, {
        method: m.method,
        target: m.target,
        headers: new LineHeaders(m.headers),
        end: lifetime,
        onEarlyHints: m.hints ? (links) => send({ t: 'hints', n, links: [...links] }) : undefined,
        ...(m.page !== undefined ? { page: m.page } : {}),
      });
      if (response instanceof Promise) {
        response.then(headed, (e: unknown) => {
          send({ t: 'fail', n, message: e instanceof Error ? e.message : String(e) });
          finish(n);
        });
      } else headed(response);
    } catch (e) {
      send({ t: 'fail', n, message: e instanceof Error ? e.message : String(e) });
      finish(n);
    }
  };
  const onMessage = (m: ToWorker): void => {
    if (typeof m !== 'object' || m === null) return;
    if (m.t === 'req') start(m);
    else if (m.t === 'ack') active.get(m.n)?.sink?.acked(m.bytes);
    else if (m.t === 'end') {
      const a = active.get(m.n);
      if (a === undefined) return;
      a.lifetime.finish(new Error(m.reason));
      a.sink?.wake();
      if (a.sink !== undefined) finish(m.n);
    }
  };
  port.on('message', onMessage);
  return () => port.off('message', onMessage);
}
