/**
 * The hydrate step, shared by the island loader and `embed.js`: brings a
 * group of islands to life together, the way client rendering would.
 *
 * In a client-rendered page every definition exists before the first Lit
 * update: a module graph evaluates synchronously, `customElements.define`
 * upgrades (constructs and connects) the elements at once, and Lit's
 * updates are microtasks queued after that. A parent that reads its
 * light-DOM children on its first update or `slotchange` (tabs, selects,
 * menus) therefore finds them upgraded, with their properties. The step
 * reproduces that for a group (an island and the islands nested in its light
 * DOM, in tree order):
 *
 * 1. import every member's module (all at once; an element whose module is
 *    not defined yet is given `defer-hydration` first, so a client-only one
 *    does not start rendering on its own the moment its module defines it),
 *    and set each member's server data as properties once its module is in;
 * 2. record the state of the form controls the user typed into (below);
 * 3. remove `defer-hydration` from every member in tree order, synchronously
 *    — each connects (Lit enables its update) before any first update runs,
 *    parents before children, as when a template with defined elements is
 *    rendered;
 * 4. await every member's first update; give the slots of the hydrated
 *    shadow roots the `slotchange` a client render would have caused (see
 *    {@link slotchange}) and await the updates that follows; stop holding input, put the typed
 *    state back, replay the held input (`replay.ts`); dispatch
 *    `atoll:hydrated` on each member, or `atoll:hydration-error` on a member
 *    whose module or update failed (the others still hydrate: one failing
 *    element never breaks the rest).
 *
 * Form state: Lit commits property bindings while hydrating (they are not in
 * the server's HTML), so `<input .value=${this.x}>` overwrites what the user
 * typed before hydration with `this.x`. The controls that got an `input` or
 * `change` event while input was held (exactly what the user typed into, in
 * the group's light DOM or open shadow roots; those events were held, not
 * replayed) have their `value` recorded before `defer-hydration` goes (text
 * fields, textareas, a select's choice), put back after the first updates,
 * and get one `input` and one `change` event, so the component's state
 * follows the control as if the user had typed after hydration — before the
 * held clicks replay, so "Add to cart" sees the typed quantity. A checkbox
 * or radio changes through a click (a key press on one makes a click too),
 * and clicks are held and replayed, so its state changes after hydration.
 */
import { DEFER_HYDRATION, HYDRATED_EVENT, HYDRATION_ERROR_EVENT } from './protocol.ts';
import type { Hold } from './replay.ts';

/** What `atoll:hydrated` carries. */
export interface HydratedDetail {
  /** The strategy that fired (`visible`, `load`, …): the group's. */
  strategy: string;
  /** `performance.now()` when the strategy fired. */
  start: number;
  /** Milliseconds from the strategy firing to the end of the first update. */
  duration: number;
}

/** What `atoll:hydration-error` carries. */
export interface HydrationErrorDetail {
  /** The strategy that fired. */
  strategy: string;
  /** What went wrong: the import's rejection, or what hydration threw. */
  error: unknown;
}

/**
 * Dispatches `slotchange` on every slot under `root` (and in the shadow roots
 * inside it) that has assigned nodes. A client render inserts each slot and
 * the browser then fires `slotchange` at it, after the first updates; with
 * declarative shadow DOM that event fired while the page was parsed, before
 * any listener existed, and hydration reuses the slot. Components that find
 * their light-DOM children on `slotchange` (`md-tabs` selects its first tab
 * there) would otherwise never do so.
 */
function slotchange(root: ParentNode): void {
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) slotchange(el.shadowRoot);
    if ((el as HTMLSlotElement).assignedNodes?.()[0]) el.dispatchEvent(new Event('slotchange', { bubbles: true }));
  }
}

const fire = (el: Element, type: string, detail: HydratedDetail | HydrationErrorDetail, cancelable?: boolean): boolean =>
  el.dispatchEvent(new CustomEvent(type, { bubbles: true, cancelable, detail }));

/** Reports a failure on `el`: a cancelable `atoll:hydration-error`, logged unless cancelled. */
export function report(el: Element, strategy: string, error: unknown): void {
  if (fire(el, HYDRATION_ERROR_EVENT, { strategy, error }, true)) console.error(error);
}

/**
 * Hydrates `group` (tree order; the first is the outermost). `load` imports
 * an element's module (cached per tag by the caller), `props` returns its
 * server data (consuming it), `held` is the input held for the group
 * (`replay.ts`; released here). `quiet`: no
 * `atoll:hydrated` (a client render after a failed fragment, `embed.js`).
 */
export async function hydrate(
  group: Element[],
  strategy: string,
  load: (el: Element) => Promise<unknown>,
  props: (el: Element) => unknown,
  held: Hold,
  quiet?: boolean,
): Promise<void> {
  const start = performance.now();
  const failed = new Map<Element, unknown>();
  const fail = (el: Element) => (error: unknown) => void failed.set(el, error);
  for (const el of group) if (!customElements.get(el.localName)) el.setAttribute(DEFER_HYDRATION, '');
  await Promise.all(
    group.map((el) =>
      load(el)
        .then(() => {
          if (!customElements.get(el.localName)) throw Error('undefined <' + el.localName + '>');
          Object.assign(el, props(el));
        })
        .catch(fail(el)),
    ),
  );
  const typed = [...held[3]].map((c) => [c as HTMLInputElement, (c as HTMLInputElement).value] as const);
  const live = group.filter((el) => !failed.has(el));
  // Members with a server shadow root (the others render, and get real slotchange events).
  const hydrating = live.filter((el) => el.shadowRoot);
  const settled = () => Promise.all(live.map((el) => Promise.resolve((el as { updateComplete?: unknown }).updateComplete).catch(fail(el))));
  for (const el of live) el.removeAttribute(DEFER_HYDRATION);
  await settled();
  for (const el of hydrating) slotchange(el.shadowRoot!);
  await settled();
  // Input is no longer held once the form state is back: the page sees these events.
  held[2](() => {
    for (const [c, value] of typed) {
      try {
        // Unchanged, a text field keeps its caret.
        c.value = value;
      } catch {
        // A file input's value cannot be set; its files stay anyway.
      }
      c.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      c.dispatchEvent(new Event('change', { bubbles: true }));
    }
  });
  for (const el of group) {
    if (failed.has(el)) report(el, strategy, failed.get(el));
    else if (!quiet) fire(el, HYDRATED_EVENT, { strategy, start, duration: performance.now() - start });
  }
}
