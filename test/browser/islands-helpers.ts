/**
 * Helpers for the islands tests: load a real Atoll page in a same-origin
 * iframe, read what it requested, wait for Atoll's events, and take
 * snapshots of shadow roots to prove node identity across hydration.
 */

/** An event recorded by the fixtures' instrumentation script. */
export interface RecordedEvent {
  type: 'atoll:hydrated' | 'atoll:hydration-error';
  id: string;
  detail: { strategy: string; start?: number; duration?: number; error?: unknown };
}

/** The fixture window, with what the fixture pages record. */
export type FixtureWindow = Window &
  typeof globalThis & {
    __atollEvents: RecordedEvent[];
    __islands?: { updated: string[]; clicks: number };
  };

/** A loaded page. */
export interface Page {
  iframe: HTMLIFrameElement;
  win: FixtureWindow;
  doc: Document;
}

/** Loads `path` in a new borderless iframe of the given size. */
export async function loadPage(path: string, size: { width?: number; height?: number } = {}): Promise<Page> {
  for (const old of document.querySelectorAll('iframe')) old.remove();
  const iframe = document.createElement('iframe');
  iframe.style.cssText = `border: 0; display: block; width: ${size.width ?? 800}px; height: ${size.height ?? 600}px`;
  // Lay the frame out before its page loads, so that the page's media
  // queries and observers see the final viewport from the start.
  document.body.append(iframe);
  void iframe.getBoundingClientRect();
  const loaded = new Promise<void>((resolve, reject) => {
    iframe.onload = () => resolve();
    iframe.onerror = () => reject(new Error(`could not load ${path}`));
  });
  iframe.src = path;
  await loaded;
  const win = iframe.contentWindow as FixtureWindow;
  return { iframe, win, doc: win.document };
}

/** Resolves after `n` animation frames of `win`. */
export async function frames(win: Window, n = 2): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => win.requestAnimationFrame(r));
}

/**
 * Waits (polling every frame) until `check` returns a truthy value, and
 * returns it. Fails with `what` after `limitMs` — a bound on a hang, not an
 * assertion about speed.
 */
export async function until<T>(win: Window, what: string, check: () => T, limitMs = 5000): Promise<T> {
  const give = Date.now() + limitMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > give) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => win.requestAnimationFrame(r));
  }
}

/** Waits for the `atoll:hydrated` (or `atoll:hydration-error`) event of the element with `id`. */
export function event(page: Page, id: string, type: RecordedEvent['type'] = 'atoll:hydrated'): Promise<RecordedEvent> {
  return until(page.win, `${type} of #${id}`, () => page.win.__atollEvents.find((e) => e.id === id && e.type === type)) as Promise<RecordedEvent>;
}

/** Atoll's import map on the page (`@atoll/<tag>` → URL). */
export function importMap(doc: Document): Record<string, string> {
  const script = doc.querySelector('script[type=importmap][data-atoll]');
  return script === null ? {} : (JSON.parse(script.textContent!) as { imports: Record<string, string> }).imports;
}

/** The path of the module of `tag`, as the page's import map names it. */
export function moduleOf(doc: Document, tag: string): string {
  const url = importMap(doc)[`@atoll/${tag}`];
  if (url === undefined) throw new Error(`<${tag}> is not in the import map`);
  return new URL(url, doc.baseURI).pathname;
}

/** Paths of every resource the page has fetched (Resource Timing). */
export function requested(win: Window): string[] {
  return win.performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
}

/** Every node of a shadow root (elements, text, comments), in order. */
export function shadowNodes(host: Element): Node[] {
  const root = host.shadowRoot;
  if (root === null) throw new Error(`<${host.localName}> has no shadow root`);
  const walker = host.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_ALL);
  const nodes: Node[] = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  return nodes;
}

/** True when `after` holds exactly the same node objects as `before`, in order. */
export function sameNodes(before: readonly Node[], after: readonly Node[]): boolean {
  return before.length === after.length && before.every((n, i) => n === after[i]);
}
