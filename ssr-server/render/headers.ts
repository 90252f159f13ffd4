/**
 * The default merge of response headers (SPEC 4): the layout's own headers
 * and every element's, into the page's.
 *
 * - `Cache-Control`: the most restrictive (`no-store` > `private` > the
 *   shortest `max-age` / `s-maxage`).
 * - `Vary`, `Link`: union, de-duplicated.
 * - `Set-Cookie`: all kept in order; the last one wins per cookie name.
 * - `Server-Timing`: concatenated (Atoll adds its own entries).
 * - `Content-Security-Policy`: the layout's own only.
 * - Hop-by-hop and framing headers from elements are dropped.
 * - Any other header: the primary element wins, then the layout, then the
 *   elements in document order.
 */

import { HeaderList, normalizeValue } from '../header-values.ts';

/** One contributor to the page's headers (as an operator's `mergeHeaders` sees it). */
export interface HeaderPart {
  /** `layout`, or the element's tag. */
  source: string;
  primary: boolean;
  headers: Headers;
}

/** An operator's replacement for the whole merge. */
export type MergeHeaders = (parts: readonly HeaderPart[]) => Headers;

/**
 * One contributor as the engine keeps it: plain data, checked where it
 * entered (`checkHeaders`). `Headers` are made from it only for an
 * operator's merge.
 */
export interface ListPart {
  source: string;
  primary: boolean;
  headers: HeaderList;
}

/** Headers an element may never set on the page. */
export const DROPPED_FROM_ELEMENTS = new Set([
  'connection',
  'transfer-encoding',
  'content-length',
  'keep-alive',
  'trailer',
  'upgrade',
  'proxy-connection',
  'te',
  'content-type',
  'content-encoding',
  'content-security-policy',
  'content-security-policy-report-only',
]);

const SPECIAL = new Set(['cache-control', 'vary', 'link', 'set-cookie', 'server-timing']);

/** What the merge needs to know of one `Cache-Control` value. */
interface CacheDirectives {
  noStore: boolean;
  private: boolean;
  noCache: boolean;
  public: boolean;
  /** An `s-maxage` directive is present (whatever its value). */
  hasSMaxAge: boolean;
  maxAge: number | undefined;
  sMaxAge: number | undefined;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  noTransform: boolean;
}

const seconds = (v: string | true | undefined): number | undefined => {
  if (v === undefined || v === true) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
};

function parseCacheControl(value: string): CacheDirectives {
  const d = new Map<string, string | true>();
  for (const part of value.split(',')) {
    const [rawName, ...rest] = part.trim().split('=');
    if (!rawName) continue;
    const name = rawName.trim().toLowerCase();
    d.set(name, rest.length > 0 ? rest.join('=').trim().replace(/^"|"$/g, '') : true);
  }
  return {
    noStore: d.has('no-store'),
    private: d.has('private'),
    noCache: d.has('no-cache'),
    public: d.has('public'),
    hasSMaxAge: d.has('s-maxage'),
    maxAge: seconds(d.get('max-age')),
    sMaxAge: seconds(d.get('s-maxage')),
    mustRevalidate: d.has('must-revalidate'),
    proxyRevalidate: d.has('proxy-revalidate'),
    noTransform: d.has('no-transform'),
  };
}

/**
 * Parsed `Cache-Control` values by their text. The values a site sends are
 * few (the layout's, the registry's, the constants elements return), so each
 * is parsed once, not per request. The table is bounded: a long value is
 * not kept, and a full table starts again, so junk cannot grow it.
 */
const parsedCacheControl = new Map<string, CacheDirectives>();
const MAX_PARSED = 512;
const MAX_PARSED_LENGTH = 256;

function cacheDirectives(value: string): CacheDirectives {
  let d = parsedCacheControl.get(value);
  if (d === undefined) {
    d = parseCacheControl(value);
    if (value.length <= MAX_PARSED_LENGTH) {
      // Full (values that change per request, or junk): start again, so the site's constants come back.
      if (parsedCacheControl.size >= MAX_PARSED) parsedCacheControl.clear();
      parsedCacheControl.set(value, d);
    }
  }
  return d;
}

function mergeDirectives(all: readonly CacheDirectives[], capSeconds: number | undefined): string | undefined {
  if (all.length === 0) return undefined;
  let noStore = false;
  let isPrivate = false;
  let noCache = false;
  let allPublic = true;
  let anyShared = false;
  let mustRevalidate = false;
  let proxyRevalidate = false;
  let noTransform = false;
  for (const d of all) {
    noStore ||= d.noStore;
    isPrivate ||= d.private;
    noCache ||= d.noCache;
    allPublic &&= d.public;
    anyShared ||= d.hasSMaxAge;
    mustRevalidate ||= d.mustRevalidate;
    proxyRevalidate ||= d.proxyRevalidate;
    noTransform ||= d.noTransform;
  }
  if (noStore) return 'no-store';
  let maxAge: number | undefined;
  let sMaxAge: number | undefined;
  for (const d of all) {
    const m = d.maxAge;
    if (m !== undefined) maxAge = maxAge === undefined ? m : Math.min(maxAge, m);
    if (anyShared && !isPrivate) {
      const s = d.sMaxAge ?? m;
      if (s !== undefined) sMaxAge = sMaxAge === undefined ? s : Math.min(sMaxAge, s);
    }
  }
  if (capSeconds !== undefined) {
    const cap = Math.max(0, Math.floor(capSeconds));
    if (maxAge !== undefined) maxAge = Math.min(maxAge, cap);
    if (sMaxAge !== undefined) sMaxAge = Math.min(sMaxAge, cap);
  }
  const out: string[] = [];
  if (isPrivate) out.push('private');
  else if (allPublic) out.push('public');
  if (noCache) out.push('no-cache');
  if (maxAge !== undefined) out.push(`max-age=${maxAge}`);
  if (sMaxAge !== undefined) out.push(`s-maxage=${sMaxAge}`);
  if (mustRevalidate) out.push('must-revalidate');
  if (proxyRevalidate) out.push('proxy-revalidate');
  if (noTransform) out.push('no-transform');
  return out.length === 0 ? undefined : out.join(', ');
}

/**
 * Merges `Cache-Control` values into the most restrictive one. `capSeconds`
 * lowers any lifetime the merge claims (used by the render cache so the page
 * never outlives a part's remaining lifetime); it never adds a claim.
 */
export function mergeCacheControl(values: readonly string[], capSeconds?: number): string | undefined {
  return mergeDirectives(values.map(cacheDirectives), capSeconds);
}

/** Splits a `Link` header value into its links (commas inside `<…>` are kept). */
export function splitLinks(value: string): string[] {
  return value.split(/,\s*(?=<)/).map((s) => s.trim()).filter(Boolean);
}

const cookieName = (cookie: string): string => cookie.slice(0, Math.max(0, cookie.indexOf('='))).trim();

/** Copies a part's headers other than the special ones into `out`, where `out` has none of that name yet. */
function takeOthers(out: HeaderList, p: ListPart): void {
  const h = p.headers;
  const isLayout = p.source === 'layout';
  for (let i = 0; i < h.size; i++) {
    const name = h.nameAt(i);
    if (SPECIAL.has(name) || (!isLayout && DROPPED_FROM_ELEMENTS.has(name)) || out.has(name)) continue;
    out.set(name, h.valueAt(i));
  }
}

/**
 * A page whose only part is the layout (every element cached, none with
 * headers of its own) merges the same list every time: the merge is kept
 * with the layout's list (shared and never changed), and only the lifetime
 * cap is applied per request.
 */
const layoutOnly = new WeakMap<HeaderList, { merged: HeaderList; cacheControl: CacheDirectives[] }>();

/**
 * The default header merge on plain data (what the page uses).
 * `cacheCapSeconds`: see {@link mergeCacheControl}.
 */
export function mergeLists(parts: readonly ListPart[], cacheCapSeconds?: number): HeaderList {
  if (parts.length === 1 && parts[0]!.source === 'layout') {
    const only = parts[0]!.headers;
    let memo = layoutOnly.get(only);
    if (memo === undefined) {
      const cc = only.get('cache-control');
      memo = { merged: mergeParts(parts, undefined), cacheControl: cc === null ? [] : [cacheDirectives(cc)] };
      layoutOnly.set(only, memo);
    }
    const out = memo.merged.clone();
    if (cacheCapSeconds !== undefined && memo.cacheControl.length > 0) {
      const capped = mergeDirectives(memo.cacheControl, cacheCapSeconds);
      if (capped === undefined) out.delete('cache-control');
      else out.set('cache-control', capped);
    }
    return out;
  }
  return mergeParts(parts, cacheCapSeconds);
}

function mergeParts(parts: readonly ListPart[], cacheCapSeconds: number | undefined): HeaderList {
  const out = new HeaderList();
  const layout = parts.find((p) => p.source === 'layout');

  // Other headers: primary first, then the layout, then document order; the first one wins.
  for (const p of parts) if (p.primary) takeOthers(out, p);
  if (layout !== undefined) takeOthers(out, layout);
  for (const p of parts) if (!p.primary && p !== layout) takeOthers(out, p);

  // The special ones, in the parts' order.
  const cc: CacheDirectives[] = [];
  const vary = new Map<string, string>();
  const links: string[] = [];
  const seenLinks = new Set<string>();
  const cookies: string[] = [];
  const timing: string[] = [];
  for (const p of parts) {
    const h = p.headers;
    // An element's values were copied into the page's as `Headers` does (a joined value such as `a, ` loses its end); the layout's were used as they are.
    const copied = p.source !== 'layout';
    for (let i = 0; i < h.size; i++) {
      const value = copied ? normalizeValue(h.valueAt(i)) : h.valueAt(i);
      switch (h.nameAt(i)) {
        case 'cache-control':
          cc.push(cacheDirectives(value));
          break;
        case 'vary':
          for (const v of value.split(',')) {
            const t = v.trim();
            if (t === '') continue;
            const lower = t.toLowerCase();
            if (!vary.has(lower)) vary.set(lower, t);
          }
          break;
        case 'link':
          for (const l of splitLinks(value)) {
            if (!seenLinks.has(l)) {
              seenLinks.add(l);
              links.push(l);
            }
          }
          break;
        case 'set-cookie':
          cookies.push(value);
          break;
        case 'server-timing':
          if (value !== '') timing.push(value);
          break;
      }
    }
  }
  const merged = mergeDirectives(cc, cacheCapSeconds);
  if (merged !== undefined) out.set('cache-control', merged);
  if (vary.has('*')) out.set('vary', '*');
  else if (vary.size > 0) out.set('vary', [...vary.values()].join(', '));
  if (links.length > 0) out.set('link', links.join(', '));
  if (cookies.length > 0) {
    // All kept in order, the last one per name wins.
    const names = cookies.map(cookieName);
    const last = new Map<string, number>();
    for (let i = 0; i < names.length; i++) last.set(names[i]!, i);
    for (let i = 0; i < cookies.length; i++) if (last.get(names[i]!) === i) out.append('set-cookie', cookies[i]!);
  }
  if (timing.length > 0) out.set('server-timing', timing.join(', '));
  return out;
}

/** A `Headers` as plain data: its entries as they read (a joined value as `get` gives it). */
export function listOf(headers: Headers): HeaderList {
  const names: string[] = [];
  const values: string[] = [];
  headers.forEach((v, k) => {
    if (k === 'set-cookie') return;
    names.push(k);
    values.push(v);
  });
  for (const c of headers.getSetCookie()) {
    names.push('set-cookie');
    values.push(c);
  }
  return new HeaderList(names, values);
}

/**
 * The default header merge, for operators (an operator's `mergeHeaders` may
 * call it): the same merge as the engine's, from and to `Headers`.
 * `cacheCapSeconds`: see {@link mergeCacheControl}.
 */
export function mergeHeaders(parts: readonly HeaderPart[], cacheCapSeconds?: number): Headers {
  return mergeLists(
    parts.map((p) => ({ source: p.source, primary: p.primary, headers: listOf(p.headers) })),
    cacheCapSeconds,
  ).toHeaders();
}
