/**
 * The client router's swap (docs/navigation.md, "What is kept"): puts a new
 * page's body into the live one so that every kept element instance stays
 * where it is, and updates the head.
 *
 * The server answers a navigation with `<tag atoll-keep="key"></tag>` for
 * each instance the browser said it has; the live element `[atoll-key=key]`
 * must end up at that place. Moving a node disconnects it (its
 * `disconnectedCallback` runs, focus inside it is lost, an iframe inside it
 * reloads, a playing video stops), so a live element that is already at the
 * corresponding position must not move at all. The old and new trees are
 * walked in parallel from `<body>`:
 *
 * - a new child that is, or contains, a placeholder is matched with the old
 *   child that contains the live element: the same tag (and neither is an
 *   element instance itself) → the old node stays, its attributes become the
 *   new ones, and its children are walked the same way; otherwise the new
 *   node is taken and the live elements are moved into its placeholders
 *   (they reconnect, with their state, but lose focus);
 * - a new child without placeholders reuses an unmatched old child that
 *   `isEqualNode` it (text between elements, static markup) — only when
 *   neither holds an element instance or a shadow root, whose state or
 *   content an equal light DOM says nothing about; otherwise the new node
 *   is inserted (adopted from the parsed document);
 * - the old children not kept are removed first, then the new ones are
 *   inserted before the kept ones, so a kept node never moves. A kept child
 *   matched out of order (the new page moved it) is moved like a new node.
 *
 * A placeholder whose live element is missing (a script removed it, or the
 * server answered for keys the page no longer has) makes the swap refuse:
 * the router loads the page as a document instead.
 *
 * No window globals at module level beyond DOM types: the browser tests
 * import it alone.
 */
import { IMPORT_MAP_SELECTOR, KEEP_ATTR, KEY_ATTR } from './protocol.ts';

/** On the router's own nodes in `<body>` (the progress bar, the live region): never removed by a swap. */
export const UI_ATTR = 'data-atoll-router-ui';

/** What {@link swapBody} did. */
export interface SwapResult {
  /** The keys of the live instances now at their placeholders' places. */
  kept: string[];
  /** Of those, the ones that had to move (disconnected and reconnected). */
  moved: string[];
}

const isElement = (n: Node | null): n is Element => n?.nodeType === 1;
const isUI = (n: Node | null): boolean => isElement(n) && n.hasAttribute(UI_ATTR);

/** True when `n` is or contains an element instance (`atoll-key`) or a host with a shadow root. */
function holdsState(n: Node): boolean {
  if (!isElement(n)) return false;
  if (n.hasAttribute(KEY_ATTR) || n.shadowRoot) return true;
  for (const e of n.querySelectorAll('*')) if (e.hasAttribute(KEY_ATTR) || e.shadowRoot) return true;
  return false;
}

/** Makes `to`'s attributes exactly `from`'s. */
export function copyAttributes(to: Element, from: Element): void {
  for (const a of [...to.attributes]) if (!from.hasAttribute(a.name)) to.removeAttribute(a.name);
  for (const a of from.attributes) if (to.getAttribute(a.name) !== a.value) to.setAttribute(a.name, a.value);
}

/**
 * The live instances of the page, by key: the connected `[atoll-key]`
 * hosts in `root`'s light DOM (the first of a key, should a page repeat one).
 */
export function liveInstances(root: ParentNode): Map<string, Element> {
  const live = new Map<string, Element>();
  for (const el of root.querySelectorAll(`[${KEY_ATTR}]`)) {
    const key = el.getAttribute(KEY_ATTR)!;
    if (!live.has(key)) live.set(key, el);
  }
  return live;
}

/**
 * Swaps `next` (the new page's `<body>`, from a parsed document) into
 * `body` (the live one). Returns undefined, having changed nothing, when a
 * placeholder's live instance is missing or has another tag.
 */
export function swapBody(body: HTMLElement, next: HTMLElement): SwapResult | undefined {
  const live = liveInstances(body);
  /** Placeholder → the live element that goes there. */
  const target = new Map<Element, Element>();
  for (const p of next.querySelectorAll(`[${KEEP_ATTR}]`)) {
    const el = live.get(p.getAttribute(KEEP_ATTR)!);
    if (el === undefined || el.localName !== p.localName) return undefined;
    target.set(p, el);
  }
  const used = new Set<Element>();
  for (const el of target.values()) {
    if (used.has(el)) return undefined; // two placeholders for one instance
    used.add(el);
  }
  const result: SwapResult = { kept: [], moved: [] };
  walk(body, next, target, result);
  copyAttributes(body, next);
  return result;
}

/** The placeholders under (or at) `n`. */
function placeholdersIn(n: Node, target: ReadonlyMap<Element, Element>): Element[] {
  if (!isElement(n)) return [];
  const found = n.hasAttribute(KEEP_ATTR) && target.has(n) ? [n] : [];
  for (const p of n.querySelectorAll(`[${KEEP_ATTR}]`)) if (target.has(p)) found.push(p);
  return found;
}

/** The child of `parent` that is or contains `node` (null when `node` is not under `parent`). */
function childContaining(parent: Node, node: Node): Node | null {
  for (let n: Node | null = node; n; n = n.parentNode) if (n.parentNode === parent) return n;
  return null;
}

function walk(oldParent: ParentNode & Node, newParent: ParentNode & Node, target: ReadonlyMap<Element, Element>, result: SwapResult): void {
  const oldChildren = [...oldParent.childNodes].filter((n) => !isUI(n));
  const index = new Map<Node, number>(oldChildren.map((n, i) => [n, i]));
  /** In the new order: the node that goes there, and whether it is an old child staying in place. */
  const plan: Array<[node: Node, stays: boolean]> = [];
  const kept = new Set<Node>();
  let last = -1;
  const keep = (oc: Node): boolean => {
    const i = index.get(oc);
    if (i === undefined || i <= last || kept.has(oc)) return false;
    last = i;
    kept.add(oc);
    return true;
  };
  for (const nc of [...newParent.childNodes]) {
    const holders = placeholdersIn(nc, target);
    if (holders.length > 0) {
      const el = target.get(holders[0]!)!;
      const oc = childContaining(oldParent, el);
      if (nc === holders[0]) {
        // The placeholder itself: the live element goes here.
        result.kept.push(el.getAttribute(KEY_ATTR)!);
        if (oc === el && keep(el)) plan.push([el, true]);
        else {
          result.moved.push(el.getAttribute(KEY_ATTR)!);
          plan.push([el, false]);
        }
        continue;
      }
      if (
        oc !== null &&
        isElement(oc) &&
        oc.localName === (nc as Element).localName &&
        !oc.hasAttribute(KEY_ATTR) &&
        !(nc as Element).hasAttribute(KEY_ATTR) &&
        !oc.shadowRoot &&
        keep(oc)
      ) {
        copyAttributes(oc, nc as Element);
        walk(oc, nc as Element, target, result);
        plan.push([oc, true]);
        continue;
      }
      // Taken as new: the live elements move into its placeholders (out of
      // the parsed document first, so that they move once).
      newParent.removeChild(nc);
      for (const p of holders) {
        const moving = target.get(p)!;
        result.kept.push(moving.getAttribute(KEY_ATTR)!);
        result.moved.push(moving.getAttribute(KEY_ATTR)!);
        p.replaceWith(moving);
      }
      plan.push([nc, false]);
      continue;
    }
    let reused: Node | undefined;
    if (!holdsState(nc)) {
      for (let i = last + 1; i < oldChildren.length; i++) {
        const oc = oldChildren[i]!;
        if (!kept.has(oc) && oc.isEqualNode(nc) && !holdsState(oc) && !containsAny(oc, target)) {
          reused = oc;
          break;
        }
      }
    }
    if (reused !== undefined && keep(reused)) plan.push([reused, true]);
    else plan.push([nc, false]);
  }
  // 1. Remove what is not kept in place (a live element that moves is taken out with its old ancestor, or alone).
  for (const oc of oldChildren) if (!kept.has(oc)) oc.parentNode === oldParent && oldParent.removeChild(oc);
  // 2. Insert the rest before the kept nodes, which never move (and before the router's own nodes at the end).
  let end: Node | null = null;
  for (let n = oldParent.lastChild; n !== null && isUI(n); n = n.previousSibling) end = n;
  let ref: Node | null = oldParent.firstChild;
  const skipUI = (): void => {
    while (ref !== null && isUI(ref)) ref = ref.nextSibling;
  };
  skipUI();
  for (const [node, stays] of plan) {
    if (stays && node === ref) {
      ref = ref.nextSibling;
      skipUI();
    } else oldParent.insertBefore(node, ref ?? end);
  }
}

/** True when `n` contains one of the live elements that go to a placeholder (it must not be reused as static markup). */
function containsAny(n: Node, target: ReadonlyMap<Element, Element>): boolean {
  for (const el of target.values()) if (n.contains(el)) return true;
  return false;
}

/** The head elements a page owns, replaced on every navigation. */
const HEAD_OWNED = 'title,meta[name],meta[property],link[rel=canonical],link[rel=alternate],script[type="application/ld+json"]';

/**
 * Updates `head` from the new page's `next` head: its title, named and
 * property metas, canonical and alternate links and JSON-LD are replaced
 * (an old one equal to a new one stays); `lang` and `dir` of the document
 * element follow the new page. The new import map's entries that the
 * loader's table `imports` lacks are added as absolute URLs (resolved
 * against `base`, the new page's URL): an import map cannot change once
 * modules have loaded, so new elements are imported by URL. New
 * modulepreload links are added (with `nonce`: {@link preloadModules}).
 * Scripts are never run.
 */
export function mergeHead(doc: Document, next: Document, imports: Record<string, string>, base: string, nonce: string): void {
  const head = doc.head;
  const fresh = [...next.head.querySelectorAll(HEAD_OWNED)];
  let anchor: Node | null = null;
  for (const old of head.querySelectorAll(HEAD_OWNED)) {
    const i = fresh.findIndex((n) => n.isEqualNode(old));
    if (i >= 0) {
      fresh.splice(i, 1);
      anchor = old;
    } else old.remove();
  }
  const before = anchor?.nextSibling ?? head.querySelector('script,link[rel=modulepreload]');
  for (const n of fresh) head.insertBefore(doc.importNode(n, true), before);
  for (const name of ['lang', 'dir']) {
    const v = next.documentElement.getAttribute(name);
    if (v === null) doc.documentElement.removeAttribute(name);
    else doc.documentElement.setAttribute(name, v);
  }
  const map = next.querySelector(IMPORT_MAP_SELECTOR);
  if (map !== null) {
    try {
      const entries = (JSON.parse(map.textContent ?? '') as { imports?: Record<string, unknown> }).imports ?? {};
      for (const [k, v] of Object.entries(entries)) if (!(k in imports) && typeof v === 'string') imports[k] = new URL(v, base).href;
    } catch {
      // An unreadable map adds nothing: new islands then report their missing module.
    }
  }
  preloadModules(doc, next, base, nonce);
}

/**
 * Adds `next`'s modulepreload links that `doc` lacks (resolved against
 * `base`, with `nonce`) to `doc`'s head: the new page's first-screen
 * modules start loading. Called by {@link mergeHead}, and by the router
 * for a prefetched page as soon as it arrives.
 */
export function preloadModules(doc: Document, next: Document, base: string, nonce: string): void {
  const head = doc.head;
  const have = new Set([...head.querySelectorAll<HTMLLinkElement>('link[rel=modulepreload]')].map((l) => l.href));
  for (const l of next.querySelectorAll('link[rel=modulepreload]')) {
    const href = new URL(l.getAttribute('href') ?? '', base).href;
    if (have.has(href)) continue;
    have.add(href);
    const link = doc.createElement('link');
    link.rel = 'modulepreload';
    if (nonce) link.nonce = nonce;
    link.href = href;
    head.append(link);
  }
}
