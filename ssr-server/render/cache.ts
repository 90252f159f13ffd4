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
  /** The element's cache tags (its `cacheTags()` hook): a purge of one of them drops the entry. */
  tags?: readonly string[];
}

/** Where rendered elements are kept. */
export interface RenderCacheStore {
  /**
   * The entry for `key`, or undefined. `request` is the same object for
   * every read of one page: a store that waits (a shared one) may bound
   * the time one page spends waiting on it.
   */
  get(key: string, request?: object): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): void | Promise<void>;
  /**
   * Drops every entry carrying one of `tags` (on every instance, for a
   * shared store); resolves with how many entries were dropped where the
   * store can count them.
   */
  purge?(tags: readonly string[]): number | Promise<number>;
}

/** Most tags on one element's output. */
export const MAX_CACHE_TAGS = 32;
/** A cache tag: 1–128 characters of letters, digits and `._:/@+=-` (fit for a `Surrogate-Key` or `Cache-Tag` header and a query string). */
export const CACHE_TAG_RE = /^[A-Za-z0-9._:/@+=-]{1,128}$/;

/** True when `value` is a usable cache tag. */
export function isCacheTag(value: unknown): value is string {
  return typeof value === 'string' && CACHE_TAG_RE.test(value);
}

/**
 * Checks what a `cacheTags()` hook returned: nothing (no tags), or an
 * array of at most {@link MAX_CACHE_TAGS} distinct tags (duplicates
 * removed); anything else is a problem. Never throws, whatever the value
 * (an array proxy that throws when read is a problem too).
 */
export function checkCacheTags(value: unknown): { tags: string[] } | { problem: string } {
  if (value === undefined || value === null) return { tags: [] };
  let list: unknown[];
  try {
    if (!Array.isArray(value)) return { problem: 'cacheTags() must return an array of strings' };
    list = Array.from(value as unknown[]);
  } catch {
    return { problem: 'cacheTags() returned an array that cannot be read' };
  }
  const tags = [...new Set(list)];
  if (tags.length > MAX_CACHE_TAGS) return { problem: `cacheTags() returned ${tags.length} tags: at most ${MAX_CACHE_TAGS}` };
  for (const t of tags) {
    if (!isCacheTag(t)) {
      const shown = typeof t === 'string' ? JSON.stringify(t.slice(0, 40)) : typeof t;
      return { problem: `cacheTags() returned ${shown}: a tag is 1-128 characters of letters, digits and ._:/@+=-` };
    }
  }
  return { tags: tags as string[] };
}

/** Most tags in one purge. */
export const MAX_PURGE_TAGS = 100;

/** Why `tags` cannot be purged (an array of 1 to {@link MAX_PURGE_TAGS} tags), or undefined. */
export function purgeTagsProblem(tags: unknown): string | undefined {
  if (!Array.isArray(tags)) return 'tags must be an array of strings';
  if (tags.length === 0) return 'give at least one tag';
  if (tags.length > MAX_PURGE_TAGS) return `at most ${MAX_PURGE_TAGS} tags per purge (got ${tags.length})`;
  for (const t of tags as unknown[]) {
    if (!isCacheTag(t)) return `${typeof t === 'string' ? JSON.stringify(t.slice(0, 40)) : typeof t} is not a tag: 1-128 characters of letters, digits and ._:/@+=-`;
  }
  return undefined;
}

/** Limits of the in-process store. */
export interface LruOptions {
  /** Most entries kept (default 2000). */
  maxEntries?: number;
  /** Most characters of HTML kept (default 32 Mi). */
  maxChars?: number;
  /**
   * Longest time an entry stays here, whatever its own lifetime (ms; default
   * none): the in-process layer in front of a shared store keeps entries
   * briefly, as a safety net behind the purge messages.
   */
  maxTtl?: number;
  /** The clock (for tests). */
  now?: () => number;
}

/** An entry as the in-process store keeps it. */
interface Held {
  entry: CacheEntry;
  /** When it leaves this store (its own expiry, or sooner with `maxTtl`). */
  until: number;
}

/** A bounded least-recently-used store in this process, with a tag index for purges. */
export class LruStore implements RenderCacheStore {
  private readonly map = new Map<string, Held>();
  /** Tag → keys of the entries that carry it. */
  private readonly byTag = new Map<string, Set<string>>();
  private chars = 0;
  private readonly maxEntries: number;
  private readonly maxChars: number;
  private readonly maxTtl: number;
  private readonly now: () => number;

  constructor(options: LruOptions = {}) {
    this.maxEntries = options.maxEntries ?? 2000;
    this.maxChars = options.maxChars ?? 32 * 1024 * 1024;
    this.maxTtl = options.maxTtl ?? Infinity;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): CacheEntry | undefined {
    const held = this.map.get(key);
    if (held === undefined) return undefined;
    this.map.delete(key);
    if (held.until <= this.now()) {
      this.forget(key, held);
      return undefined;
    }
    this.map.set(key, held);
    return held.entry;
  }

  set(key: string, given: CacheEntry): void {
    const entry: CacheEntry = { ...given, bytes: given.bytes ?? new TextEncoder().encode(given.html) };
    const size = entry.html.length + key.length;
    if (size > this.maxChars) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.forget(key, old);
    }
    this.map.set(key, { entry, until: Math.min(entry.expires, this.now() + this.maxTtl) });
    this.chars += size;
    for (const tag of entry.tags ?? []) {
      let keys = this.byTag.get(tag);
      if (keys === undefined) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    while (this.map.size > this.maxEntries || this.chars > this.maxChars) {
      const [k, held] = this.map.entries().next().value as [string, Held];
      this.map.delete(k);
      this.forget(k, held);
    }
  }

  /** Drops every entry carrying one of `tags`; returns how many. */
  purge(tags: readonly string[]): number {
    let n = 0;
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      for (const k of [...keys]) {
        const held = this.map.get(k);
        if (held === undefined) continue;
        this.map.delete(k);
        this.forget(k, held);
        n++;
      }
      this.byTag.delete(tag);
    }
    return n;
  }

  /** Drops everything. */
  clear(): void {
    this.map.clear();
    this.byTag.clear();
    this.chars = 0;
  }

  /** Accounting for an entry that just left the map. */
  private forget(key: string, held: Held): void {
    this.chars -= held.entry.html.length + key.length;
    for (const tag of held.entry.tags ?? []) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }
}

/**
 * A store shared by several Atoll instances (Redis: `cache/redis.ts`), as
 * the two-layer store uses it. Everything is asynchronous and may reject
 * (the two-layer store counts that as a miss).
 */
export interface SharedCacheStore {
  get(key: string): Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): Promise<void>;
  /** Deletes the entries tagged with any of `tags` in the shared store and tells every instance (see `onPurge`); resolves with how many were deleted. */
  purge(tags: readonly string[]): Promise<number>;
  /**
   * Called when any instance purged `tags` (this one included), or with
   * `'all'` when messages may have been missed (the channel was down).
   */
  onPurge(listener: (tags: readonly string[] | 'all') => void): void;
  /** Counters of its own (connection, values too large, …), merged into the stats. */
  stats?(): Record<string, number | string>;
  close(): Promise<void>;
}

/** Options of the two-layer store. */
export interface LayeredOptions {
  /** Most ms one page waits on the shared store's reads, all reads together (default 30). */
  readBudget?: number;
  /** The in-process layer's entries (default 500; 0: no in-process layer). */
  localEntries?: number;
  /** The longest an entry stays in the in-process layer (ms; default 5000). */
  localTtl?: number;
}

/** What the two-layer store counted since it started. */
export interface CacheStats {
  /** Hits in the in-process layer. */
  localHits: number;
  /** Hits in the shared store. */
  sharedHits: number;
  /** Reads of the shared store that found nothing (or a stale entry). */
  misses: number;
  /** Reads given up when the page's read budget ran out. */
  timeouts: number;
  /** Reads or writes the shared store failed (down, refused, bad value). */
  errors: number;
  /** Entries written. */
  sets: number;
  /** Purges asked for here, and purge messages received. */
  purges: number;
  purgeMessages: number;
  [more: string]: number | string;
}

const DEFAULT_READ_BUDGET = 30;

/**
 * Two layers: a small in-process LRU in front of a shared store. A local
 * hit is synchronous; a local miss reads the shared store within the
 * page's read budget (a slow or unreachable store is a miss, and the
 * element renders); a shared hit is kept locally for a short while. Purges
 * reach the local layer of every instance through the shared store's
 * messages; the short local lifetime bounds what a missed message can cost.
 */
export class LayeredStore implements RenderCacheStore {
  readonly local: LruStore | undefined;
  private readonly budget: number;
  /** Per page: ms already spent waiting on the shared store. */
  private readonly spent = new WeakMap<object, number>();
  private readonly counts: CacheStats = { localHits: 0, sharedHits: 0, misses: 0, timeouts: 0, errors: 0, sets: 0, purges: 0, purgeMessages: 0 };

  constructor(
    readonly shared: SharedCacheStore,
    options: LayeredOptions = {},
  ) {
    this.budget = options.readBudget ?? DEFAULT_READ_BUDGET;
    const entries = options.localEntries ?? 500;
    this.local = entries > 0 ? new LruStore({ maxEntries: entries, maxTtl: options.localTtl ?? 5000 }) : undefined;
    shared.onPurge((tags) => {
      this.counts.purgeMessages++;
      if (tags === 'all') this.local?.clear();
      else this.local?.purge(tags);
    });
  }

  get(key: string, request?: object): CacheEntry | undefined | Promise<CacheEntry | undefined> {
    const near = this.local?.get(key);
    if (near !== undefined) {
      this.counts.localHits++;
      return near;
    }
    const spent = request === undefined ? 0 : (this.spent.get(request) ?? 0);
    const left = this.budget - spent;
    if (left <= 0) {
      this.counts.timeouts++;
      return undefined;
    }
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let asked: Promise<CacheEntry | undefined>;
    try {
      asked = this.shared.get(key);
    } catch (err) {
      asked = Promise.reject(err);
    }
    const read = asked.then(
      (entry) => {
        if (entry === undefined || entry.expires <= Date.now()) {
          this.counts.misses++;
          return undefined;
        }
        this.counts.sharedHits++;
        this.local?.set(key, entry);
        return this.local?.get(key) ?? entry;
      },
      () => {
        this.counts.errors++;
        return undefined;
      },
    );
    let timedOut = false;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        this.counts.timeouts++;
        resolve(undefined);
      }, left);
    });
    return Promise.race([read, late]).then((entry) => {
      clearTimeout(timer);
      // A timer may fire a fraction of a millisecond before `left` has passed by performance.now():
      // a read that ran out of the budget spent all of it, so the page's next reads do not ask again.
      const elapsed = performance.now() - started;
      if (request !== undefined) this.spent.set(request, (this.spent.get(request) ?? 0) + (timedOut ? Math.max(elapsed, left) : elapsed));
      return entry;
    });
  }

  set(key: string, given: CacheEntry): void {
    this.counts.sets++;
    // Encoded once for both layers.
    const entry = given.bytes !== undefined ? given : { ...given, bytes: new TextEncoder().encode(given.html) };
    this.local?.set(key, entry);
    let stored: Promise<void>;
    try {
      stored = this.shared.set(key, entry);
    } catch (err) {
      stored = Promise.reject(err);
    }
    stored.catch(() => {
      this.counts.errors++;
    });
  }

  /** Drops `tags` here at once, then in the shared store and on every other instance. */
  purge(tags: readonly string[]): Promise<number> {
    this.counts.purges++;
    this.local?.purge(tags);
    return this.shared.purge(tags);
  }

  /** The counters so far (the shared store's own included). */
  stats(): CacheStats {
    let own: Record<string, number | string> = {};
    try {
      own = this.shared.stats?.() ?? {};
    } catch {
      // a store whose stats throw has none
    }
    return { ...own, ...this.counts, localEntries: this.local?.size ?? 0 };
  }

  close(): Promise<void> {
    return this.shared.close();
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
