/**
 * Helpers of the element-case table (`lit-cases.test.ts`): run one case on
 * one side (Atoll, or plain `@lit-labs/ssr` + hydrate support) and collect
 * what the table compares.
 *
 * Normalized DOM: the subtree of `<main id="case">`, one line per node,
 * shadow roots (nested ones too) inline as `#shadow-root(mode)`. Left out,
 * and why:
 * - `defer-hydration` and `hydrate`: hydration switches, not content — Atoll
 *   writes `hydrate` from the layout, Lit adds `defer-hydration`, and both go
 *   or stay by design;
 * - `atoll-key`: Atoll's instance key for client navigation (issue 15) on
 *   every layout element's host — an identity for the router, not content;
 * - `<script>` elements: Atoll's `<script type="application/json"
 *   data-atoll-props>` carries `data()` for the loader (which removes it);
 *   the plain side hands the same values over in JavaScript;
 * - Lit's markers in the light DOM: plain Lit renders the page through one
 *   Lit template, so its light DOM has `lit-part`/`lit-node` comments that a
 *   page Atoll composes from a layout has no use for (nothing hydrates it);
 *   other comments stay;
 * - whitespace-only text in the light DOM (layout formatting);
 * - after hydration, all comments: Lit's client rendering writes markers with
 *   random numbers (`<!--?lit$123$-->`). In the shadow roots of the server
 *   DOM the markers stay: both sides must give Lit the same ones to hydrate.
 *
 * A closed shadow root cannot be read from outside once parsed: the server
 * DOM lists the content of each closed `<template shadowrootmode>` as an
 * inert parse (DOMParser) sees it, after the page's tree.
 */
import { frames, loadPage, until, type Page } from './islands-helpers.ts';

/** What the layout's recorder script keeps (see test/fixtures/lit-cases/layouts/index.html). */
export interface Recorder {
  errors: string[];
  before: Map<Element, Node[]>;
  hydrated: Element[];
  deepNodes(host: Element): Node[];
}
export type CaseWindow = Window & typeof globalThis & { __lc: Recorder; __lcPlainHydrate?: () => void; __lcOrder?: string[] };

const STRIPPED_ATTRIBUTES = new Set(['defer-hydration', 'hydrate', 'atoll-key']);

type Updatable = Element & { updateComplete?: Promise<unknown> };

/** The shadow root of `el`, open or (through the element's own `internals`) closed. */
function shadowOf(el: Element): ShadowRoot | null {
  return el.shadowRoot ?? (el as Element & { internals?: ElementInternals }).internals?.shadowRoot ?? null;
}

/** The normalized DOM of `root`'s subtree (see the module comment). */
export function normalizedDom(root: Element | DocumentFragment, options: { shadowComments: boolean }): string[] {
  const lines: string[] = [];
  const visit = (node: Node, depth: number, inShadow: boolean): void => {
    const pad = '  '.repeat(depth);
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent ?? '';
      if (!inShadow && text.trim() === '') return;
      lines.push(`${pad}${JSON.stringify(text)}`);
      return;
    }
    if (node.nodeType === Node.COMMENT_NODE) {
      const data = (node as Comment).data;
      if (inShadow ? options.shadowComments : !LIT_MARKER.test(data)) lines.push(`${pad}<!--${data}-->`);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const el = node as Element;
    if (el.localName === 'script') return;
    const attrs = [...el.attributes]
      .filter((a) => !STRIPPED_ATTRIBUTES.has(a.name))
      .map((a) => `${a.name}=${JSON.stringify(a.value)}`)
      .sort();
    lines.push(`${pad}<${el.localName}${attrs.length > 0 ? ` ${attrs.join(' ')}` : ''}>`);
    const shadow = shadowOf(el);
    if (shadow !== null) {
      lines.push(`${pad}  #shadow-root(${shadow.mode}${shadow.delegatesFocus ? ', delegatesFocus' : ''})`);
      for (let c = shadow.firstChild; c !== null; c = c.nextSibling) visit(c, depth + 2, true);
    }
    const content = el.localName === 'template' ? (el as HTMLTemplateElement).content : el;
    for (let c = content.firstChild; c !== null; c = c.nextSibling) visit(c, depth + 1, inShadow);
  };
  if (root.nodeType === Node.DOCUMENT_FRAGMENT_NODE) for (let c = root.firstChild; c !== null; c = c.nextSibling) visit(c, 0, true);
  else visit(root, 0, false);
  return lines;
}

/** Lit's hydration markers: `lit-part` (with or without a digest), `/lit-part`, `lit-node <n>`. */
const LIT_MARKER = /^(\/?lit-part( [A-Za-z0-9+/=]*)?|lit-node \d+)$/;

/** Every custom element under `root`, shadow roots included, in tree order. */
export function customElementsIn(root: Element): Updatable[] {
  const found: Updatable[] = [];
  const visit = (parent: Node): void => {
    for (let c = parent.firstChild; c !== null; c = c.nextSibling) {
      if (c.nodeType !== Node.ELEMENT_NODE) continue;
      const el = c as Element;
      if (el.localName.includes('-')) found.push(el);
      const shadow = shadowOf(el);
      if (shadow !== null) visit(shadow);
      visit(el);
    }
  };
  visit(root);
  return found;
}

/** Awaits `updateComplete` of every custom element under `root` until all are settled. */
export async function settle(root: Element, win: Window): Promise<void> {
  for (let round = 0; round < 5; round++) {
    let again = false;
    for (const el of customElementsIn(root)) {
      try {
        if ((await el.updateComplete) === false) again = true;
      } catch {
        // A failed update is reported by the recorder (console or hydration error).
      }
    }
    if (!again) break;
  }
  await frames(win, 1);
}

/**
 * Parses a page's HTML as the browser's parser does, declarative shadow
 * roots attached, in an inert document (no script runs, nothing upgrades).
 * `setHTMLUnsafe`, not `Document.parseHTMLUnsafe`: Chromium's
 * `parseHTMLUnsafe` drops comments, and with them Lit's markers.
 */
export function parseWithShadowRoots(html: string): Document {
  const doc = document.implementation.createHTMLDocument('');
  const body = doc.body as HTMLElement & { setHTMLUnsafe?: (html: string) => void };
  if (body.setHTMLUnsafe === undefined) throw new Error('this browser has no Element.setHTMLUnsafe');
  body.setHTMLUnsafe(html);
  return doc;
}

/** A case, as the table describes it. */
export interface CaseSpec {
  /** What Lit feature it exercises. */
  what: string;
  /** After hydration: change something (a property, a click) — the DOM is compared after all updates. */
  update?: (host: any, win: CaseWindow) => unknown;
  /** Values to compare between the sides, read after hydration and again after the update. */
  probe?: (host: any, win: CaseWindow) => unknown;
  /**
   * Set when plain Lit itself does not keep the server's nodes for this case
   * (says why): Atoll must then do exactly what plain Lit does, and the test
   * fails once Lit changes, so that the note is dropped.
   */
  litReplacesNodes?: string;
}

/** What one side gave for one case. */
export interface SideResult {
  /** Normalized DOM of the server HTML, parsed without scripts. */
  ssr: string[];
  /** Problems with node identity through hydration (empty: every node kept). */
  identity: string[];
  /** Normalized DOM after hydration, and the probe then. */
  hydrated: string[];
  probeHydrated: unknown;
  /** Normalized DOM after the update, and the probe then. */
  updated: string[];
  probeUpdated: unknown;
  /** Console warnings and errors, page errors, hydration errors (minus Lit's dev-mode notice). */
  errors: string[];
}

const describeNode = (n: Node): string =>
  n.nodeType === Node.ELEMENT_NODE ? `<${(n as Element).localName}>` : n.nodeType === Node.TEXT_NODE ? `text ${JSON.stringify(n.textContent)}` : n.nodeName;

/** Node identity: every element whose `defer-hydration` was removed kept all its nodes (same objects, same order, none added). */
function identityProblems(rec: Recorder, caseRoot: Element): string[] {
  const problems: string[] = [];
  const islands = [...caseRoot.querySelectorAll('*')].filter((el) => el.localName.includes('-'));
  for (const el of islands) if (!rec.before.has(el)) problems.push(`<${el.localName}> never had its defer-hydration removed`);
  for (const [el, before] of rec.before) {
    const after = rec.deepNodes(el);
    const kept = new Set(after);
    const removed = before.filter((n) => !kept.has(n));
    const old = new Set(before);
    const added = after.filter((n) => !old.has(n));
    if (removed.length > 0) problems.push(`<${el.localName}>: ${removed.length} server node(s) replaced, first ${removed.slice(0, 3).map(describeNode).join(', ')}`);
    if (added.length > 0) problems.push(`<${el.localName}>: ${added.length} node(s) added, first ${added.slice(0, 3).map(describeNode).join(', ')}`);
    if (removed.length === 0 && added.length === 0 && !before.every((n, i) => n === after[i])) problems.push(`<${el.localName}>: server nodes moved`);
  }
  return problems;
}

/** Lit's development build announces itself with a warning; that is not a problem of the case. */
const NOT_A_PROBLEM = /Lit is in dev mode/;

/**
 * Runs case `name` on one side: fetches and parses the server HTML (no
 * script), loads the page in an iframe, hydrates it (Atoll: its own loader,
 * `hydrate="load"`; plain: `plain-client.ts`, bundled), then updates it.
 */
export async function runSide(side: 'atoll' | 'plain', name: string, spec: CaseSpec): Promise<SideResult> {
  const url = side === 'atoll' ? `/atoll/litcases/case/${name}` : `/plain-lit/case/${name}`;
  const response = await fetch(url);
  const html = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${html.slice(0, 500)}`);
  const parsed = parseWithShadowRoots(html).getElementById('case');
  if (parsed === null) throw new Error(`${url} has no #case`);
  const ssr = normalizedDom(parsed, { shadowComments: true });
  const inert = new DOMParser().parseFromString(html, 'text/html');
  for (const t of inert.querySelectorAll<HTMLTemplateElement>('#case template[shadowrootmode="closed"]')) {
    ssr.push(`closed shadow root of <${t.parentElement!.localName}>:`, ...normalizedDom(t.content, { shadowComments: true }));
  }

  const page: Page = await loadPage(url);
  const win = page.win as unknown as CaseWindow;
  const caseRoot = page.doc.getElementById('case')!;
  const host = caseRoot.firstElementChild!;
  if (side === 'plain') {
    const script = page.doc.createElement('script');
    script.type = 'module';
    script.src = '/plain-lit/client.js';
    page.doc.head.append(script);
    await until(win, 'the plain-Lit client module', () => typeof win.__lcPlainHydrate === 'function', 10_000);
    win.__lcPlainHydrate!();
  }
  // Hydrated: no custom element under #case waits for hydration any more, and (Atoll) every light-DOM island reported.
  const lightIslands = [...caseRoot.querySelectorAll('*')].filter((el) => el.localName.includes('-'));
  await until(
    win,
    `hydration of ${name} (${side})`,
    () =>
      customElementsIn(caseRoot).every((el) => !el.hasAttribute('defer-hydration')) &&
      (side === 'plain' || lightIslands.every((el) => win.__lc.hydrated.includes(el) || win.__lc.errors.some((e) => e.includes(`<${el.localName}>`)))),
    10_000,
  ).catch((err: Error) => {
    win.__lc.errors.push(`${err.message}: ${customElementsIn(caseRoot).filter((el) => el.hasAttribute('defer-hydration')).map((el) => `<${el.localName}>`).join(', ')} still deferred`);
  });
  await settle(caseRoot, win);
  const identity = identityProblems(win.__lc, caseRoot);
  const hydrated = normalizedDom(caseRoot, { shadowComments: false });
  const probeHydrated = spec.probe?.(host, win);
  try {
    await spec.update?.(host, win);
  } catch (err) {
    win.__lc.errors.push(`the update threw: ${err instanceof Error ? err.message : String(err)}`);
  }
  await settle(caseRoot, win);
  const updated = normalizedDom(caseRoot, { shadowComments: false });
  const probeUpdated = spec.probe?.(host, win);
  const errors = win.__lc.errors.filter((e) => !NOT_A_PROBLEM.test(e));
  return { ssr, identity, hydrated, probeHydrated, updated, probeUpdated, errors };
}
