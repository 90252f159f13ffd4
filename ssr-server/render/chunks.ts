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
  /** Pushes out anything the sink holds back (a compressor's buffer): called before every wait. */
  flush?(): void;
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
 * Writes a render result to `sink` in document order. Strings are coalesced
 * into writes of about `chunkSize` characters; before waiting on any Promise
 * the pending bytes are flushed, and after a write that the sink refused the
 * walk waits for `drain()`. Stops early when the sink closes.
 */
export async function drainTo(result: Output, sink: Sink, chunkSize = CHUNK_SIZE): Promise<void> {
  const stack: Frame[] = [{ arr: result, i: 0 }];
  let buf = '';
  /**
   * Writes the pending text (and then `bytes`, if given). True: go on;
   * false: the sink closed; a Promise only when the sink asked to wait.
   */
  const flush = (bytes?: Uint8Array): boolean | Promise<boolean> => {
    if (sink.closed) return false;
    let ok = true;
    if (buf !== '') {
      ok = sink.write(buf);
      buf = '';
    }
    if (bytes !== undefined) ok = sink.write(bytes) && ok;
    return ok ? true : sink.drain().then(() => !sink.closed);
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
      r = v();
      if (r === undefined) continue;
    }
    if (typeof r === 'string') {
      buf += r;
      if (buf.length >= chunkSize) {
        const f = flush();
        if (f !== true && !(await goOn(f))) return;
      }
      continue;
    }
    if (r instanceof Uint8Array) {
      const f = flush(r);
      if (f !== true && !(await goOn(f))) return;
      continue;
    }
    if (Array.isArray(r)) {
      stack.push({ arr: r, i: 0 });
      continue;
    }
    // Real async work: let the client have everything before it first.
    if (buf !== '') {
      const f = flush();
      if (f !== true && !(await goOn(f))) return;
    }
    sink.flush?.();
    const x = await r;
    if (sink.closed) return;
    if (typeof x === 'string') buf += x;
    else if (x instanceof Uint8Array) {
      const f = flush(x);
      if (f !== true && !(await goOn(f))) return;
    } else stack.push({ arr: x, i: 0 });
  }
  if (buf !== '' && !sink.closed) sink.write(buf);
}
