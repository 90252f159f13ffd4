/**
 * What a client navigation shows and says (docs/navigation.md): a progress
 * bar for navigations slower than {@link PROGRESS_DELAY} with `aria-busy` on
 * the document, focus moved to the new content, and the new title announced
 * in a visually hidden live region. The router's nodes carry `UI_ATTR`, so a
 * swap never removes them. Styles are set through CSSOM (`el.style`), which
 * a CSP without `'unsafe-inline'` allows.
 */
import { UI_ATTR } from './router-swap.ts';

/** Milliseconds before a navigation shows its progress bar. */
export const PROGRESS_DELAY = 300;

const VISUALLY_HIDDEN =
  'position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap;border:0';

let bar: HTMLElement | undefined;
let region: HTMLElement | undefined;

function uiNode(doc: Document, cssText: string): HTMLElement {
  const el = doc.createElement('div');
  el.setAttribute(UI_ATTR, '');
  el.style.cssText = cssText;
  doc.body.append(el);
  return el;
}

/** Starts the progress indication; the returned function ends it. */
export function progress(doc: Document): () => void {
  const timer = setTimeout(() => {
    if (!bar?.isConnected) {
      bar = uiNode(doc, 'position:fixed;top:0;left:0;height:3px;width:0;z-index:2147483647;pointer-events:none;background:var(--atoll-progress-color,#0e7c6b);transition:width 8s cubic-bezier(.1,.7,.2,1)');
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-label', 'Loading page');
    }
    bar.style.display = 'block';
    bar.style.width = '0';
    // Start the transition from 0 on the next frame.
    requestAnimationFrame(() => bar && (bar.style.width = '85%'));
    doc.documentElement.setAttribute('aria-busy', 'true');
  }, PROGRESS_DELAY);
  return () => {
    clearTimeout(timer);
    doc.documentElement.removeAttribute('aria-busy');
    if (bar) bar.style.display = 'none';
  };
}

/**
 * Moves focus to the new content without scrolling: the first `<h1>` in the
 * light DOM, else `<main>`, else `<body>` (made focusable with
 * `tabindex="-1"` when it is not).
 */
export function focusContent(doc: Document): Element {
  const target = doc.body.querySelector('h1') ?? doc.querySelector('main') ?? doc.body;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  (target as HTMLElement).focus({ preventScroll: true });
  return target;
}

/** Says `text` (the new title) through an assertive, atomic live region. */
export function announce(doc: Document, text: string): void {
  if (!region?.isConnected) {
    region = uiNode(doc, VISUALLY_HIDDEN);
    region.setAttribute('aria-live', 'assertive');
    region.setAttribute('aria-atomic', 'true');
    region.id = 'atoll-route-announcer';
  }
  const r = region;
  // Cleared, then set a moment later: a screen reader announces a change, not a node.
  r.textContent = '';
  setTimeout(() => (r.textContent = text), 50);
}
