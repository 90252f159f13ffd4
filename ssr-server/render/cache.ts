/**
 * The render cache: an element's rendered host markup, reused for the same
 * tag, attributes and data within its lifetime. The store is an interface so
 * a shared store (Redis, …) can replace the bounded in-process LRU; a store
 * may answer synchronously (the LRU does) or with a Promise.
 */
import { createHash } from 'node:crypto';
import type { RequestHeaders } from '../wire.ts';

/** One cached rendering. */
export interface CacheEntry {
  html: string;
  /** Epoch milliseconds after which the entry is stale. */
  expires: number;
  /** `html` already encoded as UTF-8 (the in-process store keeps it, so hits are never re-encoded). */
  bytes?: Uint8Array;
}

/** Where rendered elements are kept. */
export interface RenderCacheStore {
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): void | Promise<void>;
}

/** Limits of the in-process store. */
export interface LruOptions {
  /** Most entries kept (default 2000). */
  maxEntries?: number;
  /** Most characters of HTML kept (default 32 Mi). */
  maxChars?: number;
  /** The clock (for tests). */
  now?: () => number;
}

/** A bounded least-recently-used store in this process. */
export class LruStore implements RenderCacheStore {
  private readonly map = new Map<string, CacheEntry>();
  private chars = 0;
  private readonly maxEntries: number;
  private readonly maxChars: number;
  private readonly now: () => number;

  constructor(options: LruOptions = {}) {
    this.maxEntries = options.maxEntries ?? 2000;
    this.maxChars = options.maxChars ?? 32 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): CacheEntry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    this.map.delete(key);
    if (e.expires <= this.now()) {
      this.chars -= e.html.length + key.length;
      return undefined;
    }
    this.map.set(key, e);
    return e;
  }

  set(key: string, given: CacheEntry): void {
    const entry: CacheEntry = { ...given, bytes: given.bytes ?? new TextEncoder().encode(given.html) };
    const size = entry.html.length + key.length;
    if (size > this.maxChars) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.chars -= old.html.length + key.length;
    }
    this.map.set(key, entry);
    this.chars += size;
    while (this.map.size > this.maxEntries || this.chars > this.maxChars) {
      const [k, e] = this.map.entries().next().value as [string, CacheEntry];
      this.map.delete(k);
      this.chars -= e.html.length + k.length;
    }
  }
}

/**
 * The cache key of one rendering: tag, attributes and data, and — for an
 * element whose registry entry has `cacheVary` — the request values it
 * varies on (see {@link cacheVariant}).
 */
export function cacheKey(
  tag: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  dataJson: string | undefined,
  variant?: string,
  /** The layout element, when its attributes are all literal: the tag-and-attributes part is then made once. */
  literalOp?: object,
): string {
  let head = literalOp === undefined ? undefined : literalHeads.get(literalOp);
  if (head === undefined) {
    const attrs = [...attributes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    head = `${tag}\u0000${JSON.stringify(attrs)}\u0000`;
    if (literalOp !== undefined) literalHeads.set(literalOp, head);
  }
  const key = head + (dataJson ?? '');
  return variant === undefined ? key : `${key}\u0000${variant}`;
}

/** The tag-and-attributes part of the key of layout elements whose attributes are all literal. */
const literalHeads = new WeakMap<object, string>();

/** A variant longer than this many characters is keyed by its SHA-256 instead. */
export const MAX_VARIANT_CHARS = 128;

/**
 * The variant of one request for a `cacheVary` list (`"accept-language"`,
 * `"cookie:currency"`): the values in the list's order, an absent one told
 * apart from an empty one. Bounded: a variant longer than
 * {@link MAX_VARIANT_CHARS} is its SHA-256 (a huge or hostile header costs
 * one hash, never a huge key). Cookies are read conservatively: every
 * `;`-separated piece of `Cookie` whose name — or the name after a `,` in
 * it (two `Cookie` lines joined, or a parser that splits on commas) — is the
 * one asked for (in any case) counts, as written but for the white space
 * before it, so two requests that get one variant give any reasonable
 * cookie parser the same value.
 */
export function cacheVariant(vary: readonly string[], headers: RequestHeaders): string {
  const values: Array<string | null | string[]> = [];
  let cookie: string | null | undefined;
  for (const entry of vary) {
    if (entry.startsWith('cookie:')) {
      cookie ??= headers.get('cookie');
      values.push(cookie === null ? null : cookiePieces(cookie, entry.slice(7).toLowerCase()));
    } else {
      values.push(headers.get(entry));
    }
  }
  const text = JSON.stringify(values);
  return text.length <= MAX_VARIANT_CHARS ? `v${text}` : `h${createHash('sha256').update(text).digest('base64url')}`;
}

/** The raw pieces of a `Cookie` header that may carry cookie `name` (lower case). */
function cookiePieces(header: string, name: string): string[] {
  const out: string[] = [];
  for (const piece of header.split(';')) {
    for (const sub of piece.split(',')) {
      const eq = sub.indexOf('=');
      if ((eq < 0 ? sub : sub.slice(0, eq)).trim().toLowerCase() === name) {
        out.push(piece.trimStart());
        break;
      }
    }
  }
  return out;
}
