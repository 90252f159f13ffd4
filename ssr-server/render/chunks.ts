/**
 * The one internal form of rendered output: Lit's thunked render result, an
 * array of strings and thunks. A thunk returns nothing, a string, another
 * array, or — only for real async work — a Promise of one of those.
 *
 * This module walks that form sync-first: a Promise is created or awaited
 * only where a thunk returned one. `collect` gathers a result into a string;
 * `drainTo` writes it to a {@link Sink} in coalesced chunks, respecting
 * backpressure and flushing what it has before any wait, so bytes that are
 * ready reach the client while later parts are still working.
 */
import type { ThunkedRenderResult } from '@lit-labs/ssr/lib/render-result.js';

export type { ThunkedRenderResult };
export type Chunk = ThunkedRenderResult[number];

/** Where rendered output goes. Transport adapters implement it. */
export interface Sink {
  /** Writes a chunk; returns false when the consumer wants the producer to wait. */
  write(chunk: string): boolean;
  /** Resolves when the consumer can take more, or has gone away. */
  drain(): Promise<void>;
  /** True once the consumer has gone away; the walk then stops. */
  readonly closed: boolean;
}

/** Default size of a coalesced write. */
export const CHUNK_SIZE = 16 * 1024;

type Frame = { arr: ThunkedRenderResult; i: number };

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
export function collect(result: ThunkedRenderResult): string | Promise<string> {
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
      const r = v();
      if (r === undefined) continue;
      if (typeof r === 'string') buf += r.length < 128 && r.charCodeAt(0) === 60 ? fixDsd(r) : r;
      else if (Array.isArray(r)) stack.push({ arr: r, i: 0 });
      else {
        return r.then((x) => {
          if (typeof x === 'string') buf += x;
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
export async function drainTo(result: ThunkedRenderResult, sink: Sink, chunkSize = CHUNK_SIZE): Promise<void> {
  const stack: Frame[] = [{ arr: result, i: 0 }];
  let buf = '';
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.arr.length) {
      stack.pop();
      continue;
    }
    const v = top.arr[top.i++]!;
    let r: ReturnType<Extract<Chunk, () => unknown>> | string;
    if (typeof v === 'string') r = v;
    else {
      r = v();
      if (r === undefined) continue;
    }
    if (typeof r === 'string') {
      buf += r;
      if (buf.length >= chunkSize) {
        if (sink.closed) return;
        const ok = sink.write(buf);
        buf = '';
        if (!ok) await sink.drain();
      }
      continue;
    }
    if (Array.isArray(r)) {
      stack.push({ arr: r, i: 0 });
      continue;
    }
    // Real async work: let the client have everything before it first.
    if (buf !== '') {
      if (sink.closed) return;
      const ok = sink.write(buf);
      buf = '';
      if (!ok) await sink.drain();
    }
    const x = await r;
    if (sink.closed) return;
    if (typeof x === 'string') buf += x;
    else stack.push({ arr: x, i: 0 });
  }
  if (buf !== '' && !sink.closed) sink.write(buf);
}
