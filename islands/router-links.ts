/**
 * Which clicks and form submissions the client router handles
 * (docs/navigation.md, "What is intercepted"). Everything here only reads:
 * the router prevents the default action of what it handles.
 */
import { RELOAD_ATTR } from './protocol.ts';

/** True when `url` may be navigated to in the page: same origin, http(s), not one of Atoll's own paths. */
export function inSite(url: URL, here: Location | URL): boolean {
  return url.origin === here.origin && /^https?:$/.test(url.protocol) && !/\/_atoll\//.test(url.pathname);
}

/** True when `url` only changes the hash of the page shown (the browser scrolls; nothing to fetch). */
export function hashOnly(url: URL, here: Location | URL): boolean {
  return url.hash !== '' && url.pathname === here.pathname && url.search === here.search;
}

/** `el` or its nearest ancestor with attribute `name` (across shadow roots, along `path` when given), or undefined. */
export function closestWith(el: Element, name: string, path?: readonly EventTarget[]): Element | undefined {
  if (path) {
    for (let i = path.indexOf(el); i >= 0 && i < path.length; i++) {
      const n = path[i];
      if (n instanceof Element && n.hasAttribute(name)) return n;
    }
    return undefined;
  }
  for (let n: Node | null = el; n; n = n.parentNode ?? (n as ShadowRoot).host ?? null) {
    if (n instanceof Element && n.hasAttribute(name)) return n;
  }
  return undefined;
}

/** True when `el` or an ancestor (across shadow roots, along `path` when given) opts out with RELOAD_ATTR. */
export function optedOut(el: Element, path?: readonly EventTarget[]): boolean {
  return closestWith(el, RELOAD_ATTR, path) !== undefined;
}

/** The `<a href>` a click went through (found along its composed path: links in open shadow roots count). */
export function anchorOf(path: readonly EventTarget[]): HTMLAnchorElement | undefined {
  for (const n of path) if (n instanceof HTMLAnchorElement && n.hasAttribute('href')) return n;
  return undefined;
}

/** True when a link would open in this browsing context: no `target` but `_self`, no `download`. */
export function selfTarget(a: HTMLAnchorElement): boolean {
  const t = a.target.toLowerCase();
  return (t === '' || t === '_self') && !a.hasAttribute('download');
}

/**
 * The URL the router should navigate to for `e` (a `click`), or undefined
 * when the browser should handle it: not a plain primary click, already
 * prevented, no link, a `target` or `download`, RELOAD_ATTR on the link or
 * an ancestor, another origin, Atoll's `/_atoll/` paths, or a hash change
 * on the same page.
 */
export function clickTarget(e: MouseEvent, here: Location): URL | undefined {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return undefined;
  const path = e.composedPath();
  const a = anchorOf(path);
  if (a === undefined || !selfTarget(a) || optedOut(a, path)) return undefined;
  let url: URL;
  try {
    url = new URL(a.href);
  } catch {
    return undefined;
  }
  return inSite(url, here) && !hashOnly(url, here) ? url : undefined;
}

/**
 * The URL a GET form submission goes to, or undefined when the browser
 * should handle it: another method (POST, dialog), a `target`, RELOAD_ATTR
 * on the form, its submitter or an ancestor, a file field, another origin.
 * The submitter's `formaction`, `formmethod` and `formtarget` count.
 */
export function submitTarget(e: SubmitEvent, here: Location): URL | undefined {
  const form = e.target;
  if (e.defaultPrevented || !(form instanceof HTMLFormElement)) return undefined;
  const submitter = e.submitter as HTMLButtonElement | HTMLInputElement | null;
  const method = (submitter?.getAttribute('formmethod') ?? form.getAttribute('method') ?? 'get').toLowerCase();
  const target = (submitter?.getAttribute('formtarget') ?? form.getAttribute('target') ?? '').toLowerCase();
  if (method !== 'get' || (target !== '' && target !== '_self')) return undefined;
  if (optedOut(form) || (submitter && submitter.hasAttribute(RELOAD_ATTR))) return undefined;
  let url: URL;
  let data: FormData;
  try {
    url = new URL(submitter?.hasAttribute('formaction') ? submitter.formAction : form.action);
    data = new FormData(form, submitter);
  } catch {
    return undefined;
  }
  const query = new URLSearchParams();
  for (const [k, v] of data) {
    if (typeof v !== 'string') return undefined;
    query.append(k, v);
  }
  url.search = query.toString();
  url.hash = '';
  return inSite(url, here) ? url : undefined;
}
