/**
 * Content-Security-Policy for pages (the `csp` config section, `atoll serve
 * --csp`; see docs/security.md). Per request: a fresh nonce, which every
 * inline script Atoll writes carries (`<atoll-head>`: import map, loader,
 * modulepreloads), and the header with the nonce in place.
 *
 * Inline `<style>` elements are covered by *hashes* instead, computed at
 * start-up: Lit's server renderer writes one `<style>` per shadow root with
 * the element's static styles, and a rendered host is reused across requests
 * by the render cache (and across processes by a shared store), so a nonce
 * baked into it would be wrong on the next request — while the hash of an
 * element's static styles never changes. The same goes for the `<style>` and
 * `<script>` elements written in layouts: static text, hashed once. The rare
 * inline style that is not known at start-up (a custom renderer's, a literal
 * `<style>` in a template) gets the request's nonce instead, and an element
 * rendering that carries the nonce is never put into the render cache
 * ({@link carriesNonce}).
 */
import { createHash, randomBytes } from 'node:crypto';
import { escapeAttr } from './html.ts';
import type { Op } from './layout/ops.ts';
import type { CspConfig } from './site/config.ts';
import type { Site } from './site/load.ts';

/**
 * The policy of `csp: true` / `--csp`. `style-src-attr 'unsafe-inline'`:
 * Lit's server renderer writes style bindings and `styleMap` as `style="…"`
 * attributes, which no nonce or hash can allow (CSP nonces and hashes apply
 * to elements, not attributes); style attributes cannot run script.
 */
export const DEFAULT_POLICY =
  "script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self' 'nonce-{nonce}'; style-src-attr 'unsafe-inline'; object-src 'none'; base-uri 'none'";

/** A fresh nonce: 144 random bits, base64 (24 characters, no padding). */
export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

/** The CSP source for the SHA-256 of an inline element's text, as the browser hashes it. */
export function hashSource(text: string): string {
  // The HTML parser turns CR LF and lone CR into LF before the text reaches the element.
  const parsed = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  return `'sha256-${createHash('sha256').update(parsed, 'utf8').digest('base64')}'`;
}

type Definitions = Map<string, { ctor: unknown }>;
type StyledClass = { elementStyles?: ReadonlyArray<{ cssText?: unknown }> };

/** What Lit's server renderer writes inside `<style>` for elements of this class (undefined: no `<style>`). */
function litStyleText(ctor: unknown): string | undefined {
  const styles = (ctor as StyledClass | undefined)?.elementStyles;
  if (!Array.isArray(styles) || styles.length === 0) return undefined;
  let text = '';
  for (const s of styles as ReadonlyArray<{ cssText?: unknown }>) text += typeof s.cssText === 'string' ? s.cssText : '';
  return text;
}

/** Style texts of every element class seen so far (process-wide, like `customElements`). */
const knownStyles = new Set<string>();
const styleHashes = new Map<string, string>();
let definitionsSeen = -1;

function learnStyle(text: string | undefined): void {
  if (text === undefined || knownStyles.has(text)) return;
  knownStyles.add(text);
  styleHashes.set(text, hashSource(text));
}

/**
 * Brings {@link knownStyles} up to date with the server's custom element
 * registry (every defined element, nested ones included, whether or not the
 * site registry lists it) and with `tags`. The registry only grows, so its
 * size tells whether anything is new.
 */
function refreshKnownStyles(tags: Iterable<string> = []): void {
  const registry = (globalThis as { customElements?: { get(tag: string): unknown; __definitions?: Definitions } }).customElements;
  if (registry === undefined) return;
  const defs = registry.__definitions;
  if (defs instanceof Map && defs.size !== definitionsSeen) {
    definitionsSeen = defs.size;
    for (const { ctor } of defs.values()) learnStyle(litStyleText(ctor));
  }
  for (const tag of tags) learnStyle(litStyleText(registry.get(tag)));
}

/** Hashes of a site's inline content known at start-up. */
export interface CspHashes {
  /** `'sha256-…'` sources for `<style>` elements: elements' static styles and the layouts' `<style>`s. */
  styles: readonly string[];
  /** `'sha256-…'` sources for the layouts' inline `<script>`s. */
  scripts: readonly string[];
}

const SCRIPT_TYPES = /^(|module|importmap|speculationrules|(text|application)\/(x-)?(java|ecma)script)$/i;
const STYLE_IN_HTML = /<style(\s[^>]*)?>([\s\S]*?)<\/style/gi;
const SCRIPT_IN_HTML = /<script(\s[^>]*)?>([\s\S]*?)<\/script/gi;

/** The inline `<style>` and script texts in a layout's static markup. */
function layoutInline(ops: readonly Op[], styles: Set<string>, scripts: Set<string>): void {
  let text = '';
  const scan = (): void => {
    if (text === '') return;
    for (const m of text.matchAll(STYLE_IN_HTML)) styles.add(hashSource(m[2]!));
    for (const m of text.matchAll(SCRIPT_IN_HTML)) {
      const attrs = m[1] ?? '';
      if (/\ssrc\s*=/i.test(attrs)) continue;
      const type = /\stype\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*))/i.exec(attrs);
      if (type !== null && !SCRIPT_TYPES.test((type[1] ?? type[2] ?? type[3] ?? '').trim())) continue;
      scripts.add(hashSource(m[2]!));
    }
    text = '';
  };
  for (const op of ops) {
    if (op.kind === 'text') {
      text += op.html;
      continue;
    }
    scan();
    if (op.kind === 'route' || op.kind === 'element') layoutInline(op.children, styles, scripts);
  }
  scan();
}

const layoutHashes = new WeakMap<Site, { styles: Set<string>; scripts: Set<string> }>();

/** The hashes for `site` (element styles are re-read when new elements were defined). */
export function cspHashes(site: Site): CspHashes {
  let layouts = layoutHashes.get(site);
  if (layouts === undefined) {
    layouts = { styles: new Set(), scripts: new Set() };
    for (const { layout } of site.layouts) layoutInline(layout.ops, layouts.styles, layouts.scripts);
    layoutHashes.set(site, layouts);
  }
  refreshKnownStyles(site.registry.keys());
  return { styles: [...new Set([...styleHashes.values(), ...layouts.styles])], scripts: [...layouts.scripts] };
}

const DIRECTIVE_NAME = /^\s*([A-Za-z-]+)/;

/**
 * The policy with `{nonce}` replaced, and the hashes added to the directive
 * that governs `<style>` elements (`style-src-elem`, else `style-src`, else
 * `default-src`) and to the one that governs `<script>` elements — only when
 * that directive allows the nonce, so a policy that forbids inline content
 * stays as strict as it was (and one with `'unsafe-inline'` and no nonce
 * keeps it working: a hash would switch `'unsafe-inline'` off).
 */
export function policyFor(policy: string, nonce: string, hashes: CspHashes | undefined): string {
  const directives = policy.split(';').map((d) => d.trim()).filter((d) => d !== '');
  const index = new Map<string, number>();
  directives.forEach((d, i) => {
    const name = DIRECTIVE_NAME.exec(d)?.[1]?.toLowerCase();
    if (name !== undefined && !index.has(name)) index.set(name, i);
  });
  const add = (order: readonly string[], sources: readonly string[] | undefined): void => {
    if (sources === undefined || sources.length === 0) return;
    const name = order.find((n) => index.has(n));
    if (name === undefined) return;
    const i = index.get(name)!;
    if (directives[i]!.includes("'nonce-{nonce}'")) directives[i] += ' ' + sources.join(' ');
  };
  add(['style-src-elem', 'style-src', 'default-src'], hashes?.styles);
  add(['script-src-elem', 'script-src', 'default-src'], hashes?.scripts);
  return directives.join('; ').replaceAll('{nonce}', nonce);
}

/**
 * The response header for one page: `Content-Security-Policy` (or
 * `…-Report-Only`) with `nonce` and, given the site, the hashes of its
 * inline styles and layout scripts.
 */
export function cspHeader(csp: CspConfig, nonce: string, site?: Site): { name: string; value: string } {
  const name = csp.reportOnly ? 'content-security-policy-report-only' : 'content-security-policy';
  const policy = csp.policy ?? DEFAULT_POLICY;
  if (site === undefined) return { name, value: policyFor(policy, nonce, undefined) };
  // Per request only the nonce changes: the policy with its hashes is made again
  // only when the policy or the set of defined elements changed.
  refreshKnownStyles();
  let memo = policyMemo.get(site);
  if (memo === undefined || memo.policy !== policy || memo.definitions !== definitionsSeen) {
    memo = { policy, definitions: definitionsSeen, template: policyFor(policy, '{nonce}', cspHashes(site)) };
    policyMemo.set(site, memo);
  }
  return { name, value: memo.template.replaceAll('{nonce}', nonce) };
}

const policyMemo = new WeakMap<Site, { policy: string; definitions: number; template: string }>();

/**
 * Gives `nonce` to every `<style>` in an element's rendered markup whose text
 * is not among the element styles known at start-up (their hashes are in the
 * header; these are not). Markup without such a style comes back unchanged.
 */
export function nonceUnknownStyles(html: string, nonce: string): string {
  if (!html.includes('<style')) return html;
  refreshKnownStyles();
  const attr = ` nonce="${escapeAttr(nonce)}"`;
  return html.replace(STYLE_IN_HTML, (whole, attrs: string | undefined, text: string) =>
    knownStyles.has(text) || /\snonce\s*=/i.test(attrs ?? '') ? whole : `<style${attrs ?? ''}${attr}>${text}</style`,
  );
}

/** True when `html` contains `nonce`: such markup is for this request only (never cache it). */
export function carriesNonce(html: string, nonce: string | undefined): boolean {
  return nonce !== undefined && nonce !== '' && html.includes(nonce);
}
