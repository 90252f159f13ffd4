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

/** One contributor to the page's headers. */
export interface HeaderPart {
  /** `layout`, or the element's tag. */
  source: string;
  primary: boolean;
  headers: Headers;
}

/** An operator's replacement for the whole merge. */
export type MergeHeaders = (parts: readonly HeaderPart[]) => Headers;

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

/** Parsed `Cache-Control` directives (lower-case names). */
type Directives = Map<string, string | true>;

function parseCacheControl(value: string): Directives {
  const d: Directives = new Map();
  for (const part of value.split(',')) {
    const [rawName, ...rest] = part.trim().split('=');
    if (!rawName) continue;
    const name = rawName.trim().toLowerCase();
    d.set(name, rest.length > 0 ? rest.join('=').trim().replace(/^"|"$/g, '') : true);
  }
  return d;
}

const seconds = (v: string | true | undefined): number | undefined => {
  if (v === undefined || v === true) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
};

/**
 * Merges `Cache-Control` values into the most restrictive one. `capSeconds`
 * lowers any lifetime the merge claims (used by the render cache so the page
 * never outlives a part's remaining lifetime); it never adds a claim.
 */
export function mergeCacheControl(values: readonly string[], capSeconds?: number): string | undefined {
  if (values.length === 0) return undefined;
  const all = values.map(parseCacheControl);
  if (all.some((d) => d.has('no-store'))) return 'no-store';
  const isPrivate = all.some((d) => d.has('private'));
  const out: string[] = [isPrivate ? 'private' : '', all.some((d) => d.has('no-cache')) ? 'no-cache' : ''];
  if (!isPrivate && all.every((d) => d.has('public'))) out[0] = 'public';
  let maxAge: number | undefined;
  let sMaxAge: number | undefined;
  const anyShared = all.some((d) => d.has('s-maxage'));
  for (const d of all) {
    const m = seconds(d.get('max-age'));
    if (m !== undefined) maxAge = maxAge === undefined ? m : Math.min(maxAge, m);
    if (anyShared && !isPrivate) {
      const s = seconds(d.get('s-maxage')) ?? m;
      if (s !== undefined) sMaxAge = sMaxAge === undefined ? s : Math.min(sMaxAge, s);
    }
  }
  if (capSeconds !== undefined) {
    const cap = Math.max(0, Math.floor(capSeconds));
    if (maxAge !== undefined) maxAge = Math.min(maxAge, cap);
    if (sMaxAge !== undefined) sMaxAge = Math.min(sMaxAge, cap);
  }
  if (maxAge !== undefined) out.push(`max-age=${maxAge}`);
  if (sMaxAge !== undefined) out.push(`s-maxage=${sMaxAge}`);
  for (const flag of ['must-revalidate', 'proxy-revalidate', 'no-transform']) {
    if (all.some((d) => d.has(flag))) out.push(flag);
  }
  const s = out.filter(Boolean).join(', ');
  return s === '' ? undefined : s;
}

/** Splits a `Link` header value into its links (commas inside `<…>` are kept). */
export function splitLinks(value: string): string[] {
  return value.split(/,\s*(?=<)/).map((s) => s.trim()).filter(Boolean);
}

const cookieName = (cookie: string): string => cookie.slice(0, Math.max(0, cookie.indexOf('='))).trim();

/** The default header merge. `cacheCapSeconds`: see {@link mergeCacheControl}. */
export function mergeHeaders(parts: readonly HeaderPart[], cacheCapSeconds?: number): Headers {
  const out = new Headers();
  const layout = parts.find((p) => p.source === 'layout');
  const clean = (p: HeaderPart): Headers => {
    if (p.source === 'layout') return p.headers;
    const h = new Headers();
    p.headers.forEach((v, k) => {
      if (!DROPPED_FROM_ELEMENTS.has(k) && k !== 'set-cookie') h.set(k, v);
    });
    for (const c of p.headers.getSetCookie()) h.append('set-cookie', c);
    return h;
  };
  const cleaned = parts.map((p) => ({ part: p, headers: clean(p) }));

  // Other headers: primary first, then the layout, then document order.
  const order = [
    ...cleaned.filter((c) => c.part.primary),
    ...cleaned.filter((c) => c.part === layout),
    ...cleaned.filter((c) => !c.part.primary && c.part !== layout),
  ];
  for (const { headers } of order) {
    headers.forEach((v, k) => {
      if (!SPECIAL.has(k) && !out.has(k)) out.set(k, v);
    });
  }

  const cc = cleaned.map((c) => c.headers.get('cache-control')).filter((v): v is string => v !== null);
  const merged = mergeCacheControl(cc, cacheCapSeconds);
  if (merged !== undefined) out.set('cache-control', merged);

  const vary = new Map<string, string>();
  for (const { headers } of cleaned) {
    for (const v of (headers.get('vary') ?? '').split(',')) {
      const t = v.trim();
      if (t !== '' && !vary.has(t.toLowerCase())) vary.set(t.toLowerCase(), t);
    }
  }
  if (vary.has('*')) out.set('vary', '*');
  else if (vary.size > 0) out.set('vary', [...vary.values()].join(', '));

  const links: string[] = [];
  for (const { headers } of cleaned) {
    for (const l of splitLinks(headers.get('link') ?? '')) if (!links.includes(l)) links.push(l);
  }
  if (links.length > 0) out.set('link', links.join(', '));

  const cookies = cleaned.flatMap((c) => c.headers.getSetCookie());
  cookies.forEach((c, i) => {
    const name = cookieName(c);
    if (!cookies.slice(i + 1).some((later) => cookieName(later) === name)) out.append('set-cookie', c);
  });

  const timing = cleaned.map((c) => c.headers.get('server-timing')).filter((v): v is string => v !== null && v !== '');
  if (timing.length > 0) out.set('server-timing', timing.join(', '));

  return out;
}
