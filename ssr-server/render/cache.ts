/**
 * The render cache: an element's rendered host markup, reused for the same
 * tag, attributes and data within its lifetime. The store is an interface so
 * a shared store (Redis, …) can replace the bounded in-process LRU; a store
 * may answer synchronously (the LRU does) or with a Promise.
 */

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

/** The cache key of one rendering. */
export function cacheKey(tag: string, attributes: ReadonlyArray<readonly [string, string]>, dataJson: string | undefined): string {
  const attrs = [...attributes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `${tag}\u0000${JSON.stringify(attrs)}\u0000${dataJson ?? ''}`;
}
