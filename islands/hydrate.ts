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
 *    does not start rendering on its own the moment its module defines it);
 * 2. snapshot the form controls the user changed inside the group (see below);
 * 3. set every member's server data as properties;
 * 4. remove `defer-hydration` from every member in tree order, synchronously
 *    — each connects (Lit enables its update) before any first update runs,
 *    parents before children, as when a template with defined elements is
 *    rendered;
 * 5. await every member's first update; restore the snapshot; replay held
 *    input (`release`); dispatch `atoll:hydrated` on each member, or
 *    `atoll:hydration-error` on a member whose module or update failed (the
 *    others still hydrate: one failing element never breaks the rest).
 *
 * Form state: Lit commits property bindings while hydrating (they are not in
 * the server's HTML), so `<input .value=${this.x}>` overwrites what the user
 * typed before hydration with `this.x`. Every `<input>`, `<textarea>` and
 * `<select>` in the group's light DOM and open shadow roots whose state
 * differs from its default (value ≠ `defaultValue`, checked ≠
 * `defaultChecked`, an option's selected ≠ `defaultSelected`) — the
 * user's doing, since nothing else ran — is put back after hydration, and
 * gets one `input` and one `change` event (their originals were held by
 * `replay.ts`), so the component's state follows the control as if the user
 * had typed after hydration.
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

type Control = HTMLInputElement & Pick<HTMLSelectElement, 'options'>;


const fire = (el: Element, type: string, detail: HydratedDetail | HydrationErrorDetail, cancelable?: boolean): boolean =>
  el.dispatchEvent(new CustomEvent(type, { bubbles: true, cancelable, detail }));

/** Reports a failure on `el`: a cancelable `atoll:hydration-error`, logged unless cancelled. */
export function report(el: Element, strategy: string, error: unknown): void {
  if (fire(el, HYDRATION_ERROR_EVENT, { strategy, error }, true)) console.error(error);
}

/**
 * Hydrates `group` (tree order; the first is the outermost). `load` imports
 * an element's module (cached per tag by the caller), `props` returns its
 * server data (consuming it), `release` replays held input. `quiet`: no
 * `atoll:hydrated` (a client render after a failed fragment, `embed.js`).
 */
export async function hydrate(
  group: Element[],
  strategy: string,
  load: (el: Element) => Promise<unknown>,
  props: (el: Element) => unknown,
  held?: Hold,
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
  const typed = [...(held?.[3] || [])].map((c) => {
    const control = c as Control;
    return [control, control.value, control.checked, [...(control.options || [])].map((o) => o.selected)] as const;
  });
  const live = group.filter((el) => !failed.has(el));
  for (const el of live) el.removeAttribute(DEFER_HYDRATION);
  await Promise.all(live.map((el) => Promise.resolve((el as { updateComplete?: unknown }).updateComplete).catch(fail(el))));
  // Input is no longer held once the form state is back: the page sees these events.
  held?.[2](() => {
    for (const [c, value, checked, selected] of typed) {
      try {
        // Unchanged, a text field keeps its caret.
        c.value = value;
      } catch {
        // A file input's value cannot be set; its files stay anyway.
      }
      c.checked = checked;
      selected.map((s, i) => (c.options[i]!.selected = s));
      c.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      c.dispatchEvent(new Event('change', { bubbles: true }));
    }
  });
  for (const el of group) {
    if (failed.has(el)) report(el, strategy, failed.get(el));
    else if (!quiet) fire(el, HYDRATED_EVENT, { strategy, start, duration: performance.now() - start });
  }
}
