/**
 * The document head from elements (SPEC 9a, docs/seo.md): every element's
 * `head(ctx, data)` contribution — title, metas, canonical and alternate
 * links, JSON-LD, as data — merged by one rule and escaped here for its
 * context. Written at `<atoll-head>`, after the primaries settled:
 *
 * - order: primary elements first, then the rest in document order;
 * - one `<title>`: the first contribution's, through the layout's template
 *   (`<title data-atoll-template="%s — Shop">Shop</title>`); else the
 *   layout's own title;
 * - one canonical: the first; metas de-duplicated by name/property (first
 *   wins); alternates de-duplicated by hreflang; every JSON-LD object kept;
 * - a non-primary element contributes only if its data has settled when the
 *   head is written (the head never waits for it).
 *
 * A hook that throws, returns junk or a value with traps costs its own
 * contribution (one log line), never the page. Every string is bounded.
 */
import type { ElementContext } from '../hooks.ts';
import { escapeAttr, escapeText, trusted, type Html } from '../html.ts';
import type { HeadOp, Op } from '../layout/ops.ts';

/** Longest string kept from a head field (longer is cut). */
export const MAX_HEAD_STRING = 2048;
/** Most metas / links / JSON-LD objects one element contributes. */
export const MAX_HEAD_ITEMS = 64;
/** Largest serialized JSON-LD object (bytes of JSON); a bigger one is dropped. */
export const MAX_JSON_LD_CHARS = 64 * 1024;

/** The layout's `<title>`, taken out of its static markup at compile time. */
export interface LayoutTitle {
  /** The layout's title text (decoded). */
  text: string;
  /** `data-atoll-template`, with `%s` where an element's title goes. */
  template: string | undefined;
  /** The layout's own description/robots/Open Graph/Twitter metas: defaults, after every element's (first wins). */
  metas?: Array<{ attr: 'name' | 'property'; key: string; content: string }>;
}

/** One element's contribution as the merge sees it. */
export interface HeadSource {
  tag: string;
  primary: boolean;
  /** Call the element's hook; may throw. */
  call: () => unknown;
}

type Log = (fields: Record<string, unknown>, message: string) => void;

const TITLE_RE = /<title\b([^>]*)>([\s\S]*?)<\/title\s*>/i;
const TEMPLATE_RE = /\sdata-atoll-template\s*=\s*(?:"([^"]*)"|'([^']*)')/i;

function decodeEntities(s: string): string {
  return s.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|#39|apos|nbsp));/gi, (m, dec?: string, hex?: string, name?: string) => {
    if (dec !== undefined) return safeCodePoint(Number(dec), m);
    if (hex !== undefined) return safeCodePoint(parseInt(hex, 16), m);
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' } as Record<string, string>)[name!.toLowerCase()] ?? m;
  });
}
function safeCodePoint(n: number, fallback: string): string {
  try {
    return String.fromCodePoint(n);
  } catch {
    return fallback;
  }
}

/**
 * Takes the first `<title>` out of the static markup before the layout's
 * `<atoll-head>` (so the page has one title, written by the merge) and
 * returns it; the text ops are rewritten in place. Undefined when the
 * layout has no `<atoll-head>` or no title before it.
 */
export function extractLayoutTitle(ops: Op[]): LayoutTitle | undefined {
  const headAt = ops.findIndex((op) => op.kind === 'head');
  if (headAt < 0) return undefined;
  for (let i = 0; i < headAt; i++) {
    const op = ops[i]!;
    if (op.kind !== 'text') continue;
    const m = TITLE_RE.exec(op.html);
    if (m === null) continue;
    const t = TEMPLATE_RE.exec(m[1]!);
    const template = t === null ? undefined : decodeEntities(t[1] ?? t[2] ?? '');
    const html = op.html.slice(0, m.index) + op.html.slice(m.index + m[0].length);
    ops[i] = { kind: 'text', html: trusted(html), bytes: op.bytes === undefined ? undefined : new TextEncoder().encode(html) };
    const title: LayoutTitle = { text: decodeEntities(m[2]!).trim(), template: template !== undefined && template.includes('%s') ? template : undefined, metas: [] };
    (ops[headAt] as HeadOp).title = title;
    // The layout's metas that elements may override become defaults of the merge, so the page has each once.
    for (let j = 0; j < headAt; j++) {
      const t = ops[j]!;
      if (t.kind !== 'text') continue;
      let changed = false;
      const stripped = t.html.replace(META_RE, (tag: string) => {
        const name = attrOf(tag, 'name')?.toLowerCase();
        const property = attrOf(tag, 'property')?.toLowerCase();
        const content = attrOf(tag, 'content');
        const key = property ?? name;
        if (key === undefined || content === undefined || !OVERRIDABLE.test(key)) return tag;
        title.metas!.push({ attr: property !== undefined ? 'property' : 'name', key, content });
        changed = true;
        return '';
      });
      if (changed) ops[j] = { kind: 'text', html: trusted(stripped), bytes: t.bytes === undefined ? undefined : new TextEncoder().encode(stripped) };
    }
    return title;
  }
  return undefined;
}

const META_RE = /<meta\b[^>]*>/gi;
/** Layout metas an element's head() may replace. */
const OVERRIDABLE = /^(?:description|robots|(?:og|twitter|product|article):.+)$/;
function attrOf(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i').exec(tag);
  return m === null ? undefined : decodeEntities(m[1] ?? m[2] ?? m[3] ?? '');
}

/** A string field: strings (and finite numbers) only, control characters removed, bounded. */
function str(v: unknown): string | undefined {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isFinite(v)) s = String(v);
  else return undefined;
  // Control characters (but tab/newline, which become spaces) have no place in a head value.
  s = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').replace(/[\t\n\r]+/g, ' ');
  if (s.length > MAX_HEAD_STRING) s = s.slice(0, MAX_HEAD_STRING);
  // Do not leave half a surrogate pair at the cut.
  if (/[\ud800-\udbff]$/.test(s)) s = s.slice(0, -1);
  return s;
}

/** A URL field: absolute http(s), or resolved against `base`; anything else (javascript:, junk) is dropped. */
function url(v: unknown, base: string): string | undefined {
  const s = str(v);
  if (s === undefined || s === '') return undefined;
  // A page's canonical and image URLs are the same on every request: parsed once (the last 256).
  const key = `${base}\u0000${s}`;
  const known = resolvedUrls.get(key);
  if (known !== undefined) return known === null ? undefined : known;
  const resolved = resolveUrl(s, base);
  if (key.length <= 4096) {
    if (resolvedUrls.size >= 256) resolvedUrls.delete(resolvedUrls.keys().next().value!);
    resolvedUrls.set(key, resolved ?? null);
  }
  return resolved;
}
const resolvedUrls = new Map<string, string | null>();

function resolveUrl(s: string, base: string): string | undefined {
  try {
    const u = new URL(s, base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    // Without a publicOrigin the request's Host is never trusted: a relative URL stays a root-relative path.
    const href = u.origin === NO_ORIGIN ? u.pathname + u.search + u.hash : u.href;
    return href.length > MAX_HEAD_STRING ? undefined : href;
  } catch {
    return undefined;
  }
}

/** The base when the site has no `publicOrigin` (the request's own URL has this origin too). */
export const NO_ORIGIN = 'http://atoll.invalid';

/** Meta properties whose content is a URL (resolved like canonical). */
const URL_PROPERTIES = new Set(['og:url', 'og:image', 'og:image:url', 'og:image:secure_url', 'og:video', 'og:audio', 'twitter:image']);

/** JSON-LD as JSON text: only plain data (no cycles, BigInt, functions, getters that throw), bounded. */
function jsonLd(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  let text: string;
  try {
    text = JSON.stringify(plain(v, 0, new Set()));
  } catch {
    return undefined;
  }
  if (text === undefined || text.length > MAX_JSON_LD_CHARS) return undefined;
  // Inert inside <script>: no `</script>`, no `<!--`, and U+2028/2029 as escapes.
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A copy with only JSON data: throws on cycles, BigInt and over-deep values. */
function plain(v: unknown, depth: number, seen: Set<object>): unknown {
  if (depth > 32) throw new Error('too deep');
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > MAX_JSON_LD_CHARS ? v.slice(0, MAX_JSON_LD_CHARS) : v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'object') throw new Error(`not JSON: ${typeof v}`);
  if (seen.has(v)) throw new Error('cycle');
  seen.add(v);
  let out: unknown;
  if (Array.isArray(v)) {
    const a: unknown[] = [];
    for (let i = 0; i < Math.min(v.length, 1000); i++) a.push(plain(v[i], depth + 1, seen));
    out = a;
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw new Error('not a plain object');
    // No prototype: a `__proto__` key (from JSON.parse) stays a key, not a prototype.
    const o: Record<string, unknown> = Object.create(null);
    let n = 0;
    for (const key of Object.keys(v)) {
      if (++n > 1000) break;
      const value = (v as Record<string, unknown>)[key];
      if (value === undefined || typeof value === 'function') continue;
      o[key] = plain(value, depth + 1, seen);
    }
    out = o;
  }
  seen.delete(v);
  return out;
}

/** Items of an array field, bounded; a non-array is no items. */
function items(v: unknown): unknown[] {
  return Array.isArray(v) ? v.slice(0, MAX_HEAD_ITEMS) : [];
}

/** Reads a field of a value that may be a Proxy or have throwing getters. */
function field(o: unknown, key: string): unknown {
  if (o === null || typeof o !== 'object') return undefined;
  return (o as Record<string, unknown>)[key];
}

interface Merged {
  title: string | undefined;
  canonical: string | undefined;
  metas: Map<string, { attr: 'name' | 'property'; key: string; content: string }>;
  alternates: Map<string, { hreflang: string; href: string }>;
  jsonLd: string[];
}

/** Adds one element's checked contribution (first wins). Reading a hostile value may throw: the caller drops it then. */
function take(into: Merged, value: unknown, base: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`returned ${Array.isArray(value) ? 'an array' : typeof value}, not an object`);
  // Read every field first, so a throwing getter drops the whole contribution, not half of it.
  const title = str(field(value, 'title'));
  const description = str(field(value, 'description'));
  const robots = str(field(value, 'robots'));
  const canonical = url(field(value, 'canonical'), base);
  const metas: Array<{ attr: 'name' | 'property'; key: string; content: string }> = [];
  if (description !== undefined) metas.push({ attr: 'name', key: 'description', content: description });
  if (robots !== undefined) metas.push({ attr: 'name', key: 'robots', content: robots });
  for (const m of items(field(value, 'meta'))) {
    const name = str(field(m, 'name'));
    const property = str(field(m, 'property'));
    const key = (property ?? name)?.trim().toLowerCase();
    if (key === undefined || key === '' || key.length > 200) continue;
    const attr = property !== undefined ? 'property' : 'name';
    const content = URL_PROPERTIES.has(key) ? url(field(m, 'content'), base) : str(field(m, 'content'));
    if (content === undefined) continue;
    metas.push({ attr, key, content });
  }
  const alternates: Array<{ hreflang: string; href: string }> = [];
  for (const a of items(field(value, 'alternates'))) {
    const hreflang = str(field(a, 'hreflang'));
    const href = url(field(a, 'href'), base);
    if (hreflang === undefined || !/^[A-Za-z0-9-]{1,35}$/.test(hreflang) || href === undefined) continue;
    alternates.push({ hreflang, href });
  }
  const ld = field(value, 'jsonLd');
  const lds: string[] = [];
  for (const o of Array.isArray(ld) ? items(ld) : ld === undefined ? [] : [ld]) {
    const text = jsonLd(o);
    if (text !== undefined) lds.push(text);
  }
  if (into.title === undefined && title !== undefined && title.trim() !== '') into.title = title.trim();
  if (into.canonical === undefined) into.canonical = canonical;
  for (const m of metas) {
    const k = `${m.attr}:${m.key}`;
    if (!into.metas.has(k)) into.metas.set(k, m);
  }
  for (const a of alternates) if (!into.alternates.has(a.hreflang.toLowerCase())) into.alternates.set(a.hreflang.toLowerCase(), a);
  into.jsonLd.push(...lds);
}

/**
 * The merged head markup for `sources` (already in merge order: primaries
 * first, then document order). `base`: the origin relative URLs resolve
 * against: the config's `publicOrigin`; without one, {@link NO_ORIGIN}
 * and relative URLs stay root-relative paths (the `Host` header is the
 * client's word, and a page may sit in a shared cache).
 */
export function mergeHead(sources: readonly HeadSource[], layoutTitle: LayoutTitle | undefined, base: string, log: Log): Html {
  const merged: Merged = { title: undefined, canonical: undefined, metas: new Map(), alternates: new Map(), jsonLd: [] };
  for (const s of sources) {
    try {
      const value = s.call();
      if (value instanceof Promise || (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function')) {
        Promise.resolve(value).catch(() => {});
        throw new Error('returned a Promise; head() must return its contribution synchronously (it gets the settled data)');
      }
      take(merged, value, base);
    } catch (err) {
      let message: string;
      try {
        message = String((err as Error)?.message ?? err).slice(0, 200);
      } catch {
        message = 'a value that cannot be shown';
      }
      try {
        log({ element: s.tag, phase: 'head', message }, 'element head() failed; its head contribution was dropped');
      } catch {
        // a broken logger does not decide the page
      }
    }
  }
  for (const m of layoutTitle?.metas ?? []) {
    const k = `${m.attr}:${m.key}`;
    if (!merged.metas.has(k)) merged.metas.set(k, m);
  }
  let html = '';
  const title = merged.title !== undefined && layoutTitle?.template !== undefined ? layoutTitle.template.replace('%s', () => merged.title!) : merged.title ?? layoutTitle?.text;
  if (title !== undefined) html += `<title>${escapeText(title)}</title>`;
  for (const m of merged.metas.values()) html += `<meta ${m.attr}="${escapeAttr(m.key)}" content="${escapeAttr(m.content)}">`;
  if (merged.canonical !== undefined) html += `<link rel="canonical" href="${escapeAttr(merged.canonical)}">`;
  for (const a of merged.alternates.values()) html += `<link rel="alternate" hreflang="${escapeAttr(a.hreflang)}" href="${escapeAttr(a.href)}">`;
  for (const ld of merged.jsonLd) html += `<script type="application/ld+json">${ld}</script>`;
  return trusted(html);
}

/** What {@link documentHead} needs of one element instance. */
export interface HeadElement {
  tag: string;
  primary: boolean;
  /** Source position, for document order. */
  line: number;
  col: number;
  hook: ((ctx: ElementContext, data: Record<string, unknown> | undefined) => unknown) | undefined;
  /** The settled data, or `'pending'` / `'failed'`. */
  data: Record<string, unknown> | undefined | 'pending' | 'failed';
  context: () => ElementContext;
}

/** Orders the page's elements for the merge and returns them as sources; pending and failed ones are left out. */
export function headSources(elements: readonly HeadElement[]): HeadSource[] {
  const usable = elements.filter((e) => e.hook !== undefined && e.data !== 'pending' && e.data !== 'failed');
  const byPosition = (a: HeadElement, b: HeadElement): number => a.line - b.line || a.col - b.col;
  const ordered = [...usable.filter((e) => e.primary).sort(byPosition), ...usable.filter((e) => !e.primary).sort(byPosition)];
  return ordered.map((e) => ({ tag: e.tag, primary: e.primary, call: () => e.hook!(e.context(), e.data as Record<string, unknown> | undefined) }));
}
