/**
 * The one internal form of rendered output: Lit's thunked render result — an
 * array of strings and thunks, where a thunk returns nothing, a string,
 * another array, or (only for real async work) a Promise of one of those —
 * extended with one more kind of piece: bytes that were encoded once ahead of
 * time (large static layout parts, render-cache entries), so that a page made
 * mostly of them is not UTF-8-encoded again on every request.
 *
 * This module walks that form sync-first: a Promise is created or awaited
 * only where a thunk returned one. `collect` gathers a result into a string;
 * `drainTo` writes it to a {@link Sink} in coalesced chunks, respecting
 * backpressure and flushing what it has before any wait, so bytes that are
 * ready reach the client while later parts are still working.
 */
/** A piece of output that is ready to write. */
export type Piece = string | Uint8Array;
/** A deferred piece of output. */
export type OutputThunk = () => void | Piece | Output | Promise<Piece | Output>;
/** Rendered output: Lit's thunked render results are one kind of it. */
export type Output = Array<Piece | OutputThunk>;

/** Where rendered output goes. Transport adapters implement it. */
export interface Sink {
  /** Writes a chunk; returns false when the consumer wants the producer to wait. */
  write(chunk: Piece): boolean;
  /** Resolves when the consumer can take more, or has gone away. */
  drain(): Promise<void>;
  /**
   * Pushes out anything the sink holds back (corked writes, a compressor's
   * buffer): called before every wait. A Promise when that takes time (a
   * compressor), settling once the bytes are handed to the transport.
   */
  flush?(): void | Promise<void>;
  /**
   * Takes the whole body at once, instead of `write`: called when the body
   * is one run joined by the run memo — the same buffer for every request
   * with this body, so a sink may keep work done on it (a compressor keeps
   * the compressed bytes). Nothing else is written before or after.
   */
  writeWhole?(body: Uint8Array): void;
  /**
   * Ends the body: called once everything is written, in the same tick as
   * the last write (a corked Node response then sends its last bytes and its
   * end in one system call). Not called when the walk stopped early.
   */
  end?(): void;
  /** True once the consumer has gone away; the walk then stops. */
  readonly closed: boolean;
}

/** Default size of a coalesced write. */
export const CHUNK_SIZE = 16 * 1024;

type Frame = { arr: Output; i: number };
const decoder = new TextDecoder();

/**
 * Lit writes `<template shadowroot="open" shadowrootmode="open">`; the first
 * attribute is the pre-standard name that HTML validators reject and no
 * current browser needs. Lit emits that tag as one short string, so `collect`
 * drops the attribute per chunk instead of scanning the whole output (and
 * only looks at short chunks: reading a long rope's first character would
 * flatten it).
 */
const LEGACY_DSD = '<template shadowroot="';
const legacyDsdRe = /^<template shadowroot="(open|closed)" /;
const fixDsd = (s: string): string => (s.charCodeAt(1) === 116 && s.startsWith(LEGACY_DSD) ? s.replace(legacyDsdRe, '<template ') : s);

/**
 * Collects a render result into one string: synchronously when nothing in it
 * is async, else as a Promise. Lit's legacy `shadowroot` attribute is dropped
 * on the way (see {@link LEGACY_DSD}).
 */
export function collect(result: Output): string | Promise<string> {
  const stack: Frame[] = [{ arr: result, i: 0 }];
  let buf = '';
  const run = (): string | Promise<string> => {
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i >= top.arr.length) {
        stack.pop();
        continue;
      }
      const v = top.arr[top.i++]!;
      if (typeof v === 'string') {
        buf += v.length < 128 && v.charCodeAt(0) === 60 ? fixDsd(v) : v;
        continue;
      }
      if (v instanceof Uint8Array) {
        buf += decoder.decode(v);
        continue;
      }
      const r = v();
      if (r === undefined) continue;
      if (typeof r === 'string') buf += r.length < 128 && r.charCodeAt(0) === 60 ? fixDsd(r) : r;
      else if (Array.isArray(r)) stack.push({ arr: r, i: 0 });
      else if (r instanceof Uint8Array) buf += decoder.decode(r);
      else {
        return r.then((x) => {
          if (typeof x === 'string') buf += x;
          else if (x instanceof Uint8Array) buf += decoder.decode(x);
          else stack.push({ arr: x, i: 0 });
          return run();
        });
      }
    }
    return buf;
  };
  return run();
}

/**
 * Pre-joined runs: a page made of pre-encoded pieces (static layout bytes,
 * render-cache hits) and the same small strings on every request is written
 * as one buffer that was joined once, not re-joined or written piece by piece
 * per request. A run is looked up by its first byte piece (identity) and
 * reused when every piece is the same — bytes by identity (they are never
 * mutated), strings by content. Bounded: runs larger than `maxRun` bytes, or
 * with more than `maxText` characters of strings (freshly rendered markup,
 * which changes between requests), are not kept, and the kept ones are
 * dropped least recently used first past `maxBytes`.
 */
export class RunMemo {
  private readonly runs = new Map<Uint8Array, { pieces: Piece[]; joined: Uint8Array }>();
  private bytes = 0;
  constructor(
    readonly maxBytes = 8 * 1024 * 1024,
    readonly maxRun = 1024 * 1024,
    /** Runs with more text than this (rendered markup, not a head or a close tag) are not kept. */
    readonly maxText = 8 * 1024,
  ) {}

  /** Runs kept now (for tests). */
  get size(): number {
    return this.runs.size;
  }

  /**
   * The pieces as one buffer, or undefined when they are better written one
   * by one (too large to copy). The buffer is kept (and answered again for
   * the same pieces) unless it is larger than `maxRun`.
   */
  join(pieces: readonly Piece[]): Uint8Array | undefined {
    let key: Uint8Array | undefined;
    let size = 0;
    let text = 0;
    for (const p of pieces) {
      if (typeof p === 'string') text += p.length;
      else {
        key ??= p;
        size += p.byteLength;
      }
    }
    size += text;
    if (size > this.maxRun) return undefined;
    // Rendered text (an uncached element) differs from request to request: joined, never kept.
    if (key === undefined || text > this.maxText) return joinPieces(pieces);
    const kept = this.runs.get(key);
    if (kept !== undefined && samePieces(kept.pieces, pieces)) {
      this.runs.delete(key);
      this.runs.set(key, kept);
      return kept.joined;
    }
    const joined = joinPieces(pieces);
    if (kept !== undefined) {
      this.runs.delete(key);
      this.bytes -= kept.joined.byteLength;
    }
    if (joined.byteLength <= this.maxRun) {
      this.runs.set(key, { pieces: pieces.slice(), joined });
      this.bytes += joined.byteLength;
      for (const [k, v] of this.runs) {
        if (this.bytes <= this.maxBytes) break;
        this.runs.delete(k);
        this.bytes -= v.joined.byteLength;
      }
    }
    return joined;
  }
}

function samePieces(a: readonly Piece[], b: readonly Piece[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function joinPieces(pieces: readonly Piece[]): Uint8Array {
  let total = 0;
  for (const p of pieces) total += typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.byteLength;
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const p of pieces) {
    if (typeof p === 'string') at += out.write(p, at, 'utf8');
    else {
      out.set(p, at);
      at += p.byteLength;
    }
  }
  return out;
}

/** The process's run memo (keys are pieces, so sites and engines never see each other's runs). */
export const runMemo = new RunMemo();

/**
 * A thunk may carry `blocks`: true when calling it now would run a long
 * synchronous stretch (an element render the engine measured as heavy, or
 * has not measured yet). The drain sends everything it holds before such a
 * call, so the head and the parts before a heavy element reach the client
 * while it renders.
 */
export type BlockingHint = { blocks?: () => boolean };

/**
 * Writes a render result to `sink` in document order. Rendered strings are
 * coalesced into writes of about `chunkSize` characters; pre-encoded pieces
 * ride along without counting (they cost nothing to hold), and a run of
 * pieces goes out as one write, joined once through `memo`. Before waiting on
 * any Promise, and before a thunk that says it {@link BlockingHint blocks},
 * everything pending is written and the sink flushed (before a blocking
 * thunk the drain also waits for that flush: a compressor's output must be
 * out before the render takes the thread). After a write that the sink
 * refused the walk waits for `drain()`. Stops early when the sink closes.
 */
export async function drainTo(result: Output, sink: Sink, chunkSize = CHUNK_SIZE, memo: RunMemo | null = runMemo): Promise<void> {
  const stack: Frame[] = [{ arr: result, i: 0 }];
  /** Rendered text not yet written. */
  let buf = '';
  /** Pieces before `buf`, not yet written. */
  const run: Piece[] = [];
  /** True once anything was written. */
  let wrote = false;
  /** Writes what is pending (the whole body at once when `last` and nothing went before); false when the sink asked to wait. */
  const write = (last = false): boolean => {
    if (buf !== '') {
      run.push(buf);
      buf = '';
    }
    if (run.length === 0) return true;
    let ok = true;
    const joined = run.length === 1 ? run[0]! : memo === null ? undefined : memo.join(run);
    if (last && !wrote && run.length > 1 && joined instanceof Uint8Array && sink.writeWhole !== undefined) sink.writeWhole(joined);
    else if (joined !== undefined) ok = sink.write(joined);
    else for (const p of run) ok = sink.write(p) && ok;
    wrote = true;
    run.length = 0;
    return ok;
  };
  /** True: go on; false: the sink closed; a Promise only when the sink asked to wait. */
  const flush = (): boolean | Promise<boolean> => {
    if (sink.closed) return false;
    return write() ? true : sink.drain().then(() => !sink.closed);
  };
  const goOn = async (f: boolean | Promise<boolean>): Promise<boolean> => f === true || (f !== false && (await f));
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.arr.length) {
      stack.pop();
      continue;
    }
    const v = top.arr[top.i++]!;
    let r: void | Piece | Output | Promise<Piece | Output>;
    if (typeof v === 'string') r = v;
    else if (v instanceof Uint8Array) r = v;
    else {
      const blocks = (v as BlockingHint).blocks;
      if (blocks !== undefined && (buf !== '' || run.length > 0) && blocks()) {
        // A heavy render comes: let the client have everything before it first.
        const f = flush();
        if (f !== true && !(await goOn(f))) return;
        const flushed = sink.flush?.();
        if (flushed !== undefined) await flushed;
        if (sink.closed) return;
      }
      r = v();
      if (r === undefined) continue;
    }
    if (typeof r === 'string') {
      if (r.length >= chunkSize) {
        // A large piece (a whole rendered element) is written as it is, not
        // appended to the pending text: `buf + r` would be a new string that
        // the encoder must flatten and copy again (1.17 M characters on the
        // 1,000-card page: about 2 ms per request).
        if (buf !== '') run.push(buf);
        buf = '';
        run.push(r);
        const f = flush();
        if (f !== true && !(await goOn(f))) return;
        continue;
      }
      buf += r;
      if (buf.length >= chunkSize) {
        const f = flush();
        if (f !== true && !(await goOn(f))) return;
      }
      continue;
    }
    if (r instanceof Uint8Array) {
      if (buf !== '') {
        run.push(buf);
        buf = '';
      }
      run.push(r);
      continue;
    }
    if (Array.isArray(r)) {
      stack.push({ arr: r, i: 0 });
      continue;
    }
    // Real async work: let the client have everything before it first.
    if (buf !== '' || run.length > 0) {
      const f = flush();
      if (f !== true && !(await goOn(f))) return;
    }
    void sink.flush?.();
    const x = await r;
    if (sink.closed) return;
    if (typeof x === 'string') buf += x;
    else if (x instanceof Uint8Array) run.push(x);
    else stack.push({ arr: x, i: 0 });
  }
  if (!sink.closed) {
    write(true);
    sink.end?.();
  }
}
