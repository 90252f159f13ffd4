/**
 * Client-side navigation, the server's side (SPEC 9b, issue 15; the wire
 * protocol is in `islands/protocol.ts`): the layout id of a page, the
 * instance keys of its elements, and what a navigation request asks for.
 *
 * - **Layout id** ({@link LAYOUT_ATTR} on `<atoll-head>`'s import map): a
 *   short hash of the page's layout (its path in the site and its compiled
 *   content) and of the client build it is served with. A navigation whose
 *   {@link NAV_HEADER} names another id is answered at once with
 *   {@link NAV_RELOAD} and an empty body: the router loads the URL as a
 *   document.
 * - **Instance key** ({@link KEY_ATTR} on every layout element's host): a
 *   short hash of the element's place (layout, source position, tag), its
 *   attributes as rendered for this request, the route parameters it sees,
 *   and what is nested in its light DOM (the keys of the nested instances,
 *   the routes that matched there). Same key = the same instance with the
 *   same inputs, so the browser may keep it.
 * - **Keep set** ({@link KEEP_HEADER}): the keys the browser has; read
 *   leniently (at most {@link MAX_KEEP}, junk ignored), never an error.
 *
 * Everything here is pure and cheap; what is the same on every request is
 * computed once (per layout, per element op).
 */
import { createHash } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { KEEP_HEADER, MAX_KEEP, NAV_HEADER } from '../../islands/protocol.ts';
import type { CompiledLayout, ElementOp } from '../layout/ops.ts';
import type { Site } from '../site/load.ts';
import type { RequestHeaders } from '../wire.ts';

/** A key as the protocol allows it. */
const KEY_RE = /^[0-9a-z]{1,16}$/;

/** The longest part of a {@link KEEP_HEADER} value looked at: {@link MAX_KEEP} keys of 16 characters and their spaces. */
const MAX_KEEP_SCAN = MAX_KEEP * 17;

/** What a page render needs to know about navigation (undefined: navigation is off for this page). */
export interface PageNavigation {
  /** The page's layout id (written by `<atoll-head>`, sent back by the router). */
  layoutId: string;
  /** The layout's identity without the build: the prefix of every instance key's input. */
  layoutKey: string;
  /** Set only when the request is a navigation: the keys the browser keeps (possibly none). */
  keep: ReadonlySet<string> | undefined;
}

/** The answer to a navigation for another layout (or another build of it). */
export const RELOAD = 'reload' as const;

/**
 * 64 bits of a string's FNV-1a-style hash (two 32-bit lanes), in base 36:
 * 14 characters of `[0-9a-z]`. Not cryptographic: a key names an instance
 * for the browser that sent it, and a collision can only be made by a
 * client against itself.
 */
export function shortHash(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  // Final mixing (murmur3's fmix32), so that close inputs spread over both lanes.
  h1 ^= h2 >>> 13;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 = Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= h1;
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b);
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  return (h1 >>> 0).toString(36).padStart(7, '0') + (h2 >>> 0).toString(36).padStart(7, '0');
}

/** A digest of `text` as 14 characters of `[0-9a-z]` (SHA-256: for identities computed once). */
function digest(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  return bytes.readBigUInt64BE(0).toString(36).padStart(13, '0').slice(-14);
}

/**
 * The identity of a client build: a digest of its manifest (every built
 * file's name carries its content hash; the inputs' digest is in it too).
 * Computed once per build by whoever loads the manifest.
 */
export function buildIdentity(manifest: unknown): string {
  try {
    return digest(JSON.stringify(manifest) ?? '');
  } catch {
    return '';
  }
}

/** The identity of each layout without the build: its path in the site and its compiled content. */
const layoutKeys = new WeakMap<CompiledLayout, string>();

/**
 * A layout's identity: its path relative to the site folder (the same on
 * every worker and host of one deploy) and the compiled op tree — its
 * source's static markup, element tags, attributes and positions, routes
 * and redirects — as JSON.
 */
export function layoutKey(site: Pick<Site, 'root'>, layout: CompiledLayout): string {
  let key = layoutKeys.get(layout);
  if (key !== undefined) return key;
  let path = layout.file;
  try {
    path = relative(site.root, resolve(layout.file)).split('\\').join('/');
  } catch {
    // the path as the site named it
  }
  let content: string;
  try {
    content = JSON.stringify(layout.ops, (name: string, value: unknown) => {
      if (name === 'bytes' || name === 'file') return undefined;
      if (name === 'siblings' && Array.isArray(value)) return value.map((r: { id?: unknown }) => r.id);
      if ((name === 'pattern' || name === 'from') && value !== null && typeof value === 'object') return (value as { source?: unknown }).source;
      return value;
    });
  } catch {
    content = String(layout.ops.length);
  }
  key = digest(`${path}\n${content}`);
  layoutKeys.set(layout, key);
  return key;
}

/** The last layout id of each layout, with the build it was computed for. */
const layoutIds = new WeakMap<CompiledLayout, { build: string; id: string }>();

/** A page's layout id ({@link LAYOUT_ATTR}): its layout and the client build (`build`, '' when none). */
export function layoutId(site: Pick<Site, 'root'>, layout: CompiledLayout, build: string): string {
  const known = layoutIds.get(layout);
  if (known !== undefined && known.build === build) return known.id;
  const id = digest(`${layoutKey(site, layout)}\n${build}`);
  layoutIds.set(layout, { build, id });
  return id;
}

/** True when `layout` is one of the site's own layouts (not a fragment's or an in-process render's). */
function isSiteLayout(site: Site, layout: CompiledLayout): boolean {
  for (const l of site.layouts) if (l.layout === layout) return true;
  return false;
}

/** A request header's value, or null; never a throw. */
function header(headers: RequestHeaders, name: string): string | null {
  try {
    const v = headers.get(name);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * The keys of a {@link KEEP_HEADER} value: at most {@link MAX_KEEP}
 * distinct keys, from its first {@link MAX_KEEP_SCAN} characters,
 * separated by white space (or commas: a header sent twice arrives joined
 * with `, `); anything that is not a key is ignored.
 */
export function parseKeep(value: string | null): Set<string> {
  const keep = new Set<string>();
  if (value === null || value === '') return keep;
  let text = value;
  if (text.length > MAX_KEEP_SCAN) {
    text = text.slice(0, MAX_KEEP_SCAN);
    // The last token may be cut: it is not read.
    const cut = text.search(/[\s,][^\s,]*$/);
    text = cut < 0 ? '' : text.slice(0, cut);
  }
  for (const token of text.split(/[\s,]+/)) {
    if (keep.size >= MAX_KEEP) break;
    if (KEY_RE.test(token)) keep.add(token);
  }
  return keep;
}

/**
 * Navigation for one page request: undefined when it is off (the site's
 * `navigation: false`, or a layout that is not one of the site's — a
 * fragment, an in-process markup render), {@link RELOAD} when the request
 * is a navigation from another layout id, else the page's state.
 */
export function pageNavigation(site: Site, build: string | undefined, headers: RequestHeaders, layout: CompiledLayout): PageNavigation | typeof RELOAD | undefined {
  if (site.config.navigation === false || !isSiteLayout(site, layout)) return undefined;
  const id = layoutId(site, layout, build ?? '');
  const asked = header(headers, NAV_HEADER);
  if (asked === null || asked === '') return { layoutId: id, layoutKey: layoutKey(site, layout), keep: undefined };
  if (asked !== id) return RELOAD;
  return { layoutId: id, layoutKey: layoutKey(site, layout), keep: parseKeep(header(headers, KEEP_HEADER)) };
}

/** Per element op: the part of its key's input that never changes (layout, position, tag). */
const opPrefixes = new WeakMap<ElementOp, string>();
/** Per element op whose key is the same on every request (literal attributes, no route parameters, nothing nested): the key. */
const fixedKeys = new WeakMap<ElementOp, string>();
/** Per element op: true when every attribute is literal. */
const literalOps = new WeakMap<ElementOp, boolean>();

const field = (s: string): string => `${s.length}:${s}`;

/**
 * An instance's key: its op's place (layout key, source position, tag),
 * its attributes as rendered, its route parameters, and `nested` — the
 * keys of the instances in its light DOM and the routes that matched there,
 * in document order.
 */
export function instanceKey(
  layoutKey: string,
  op: ElementOp,
  attributes: ReadonlyArray<readonly [string, string]>,
  params: Readonly<Record<string, string>>,
  nested: readonly string[],
): string {
  let literal = literalOps.get(op);
  if (literal === undefined) literalOps.set(op, (literal = op.attrs.every((a) => a.literal !== undefined)));
  let hasParams = false;
  for (const _ in params) {
    hasParams = true;
    break;
  }
  const fixed = literal && !hasParams && nested.length === 0;
  if (fixed) {
    const known = fixedKeys.get(op);
    if (known !== undefined) return known;
  }
  let prefix = opPrefixes.get(op);
  if (prefix === undefined) opPrefixes.set(op, (prefix = `${layoutKey}|${op.loc.line ?? 0}:${op.loc.col ?? 0}|${op.tag}|`));
  let input = prefix;
  for (const [name, value] of attributes) input += field(name) + field(value);
  input += '|';
  if (hasParams) for (const name of Object.keys(params)) input += field(name) + field(params[name]!);
  input += '|';
  for (const k of nested) input += `${k} `;
  const key = shortHash(input);
  if (fixed) fixedKeys.set(op, key);
  return key;
}
