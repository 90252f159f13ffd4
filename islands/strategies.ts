/**
 * The hydration strategies (SPEC 5) as a table. Each entry takes the element
 * and the text after `:` in its `hydrate` attribute, and returns a Promise
 * that resolves when the element should hydrate. Every platform API is
 * feature-detected: without it a strategy degrades to "now".
 */

import { hold } from './replay.ts';

/**
 * A strategy: resolves when `el` should hydrate — with a function to call
 * after hydration, when the strategy held something back (see `replay.ts`).
 */
export type Strategy = (el: Element, arg: string) => Promise<void | (() => void)>;

const win: Partial<Window> & typeof globalThis = window;

/**
 * The boxes that show `el`: the element itself, or — for a `display:
 * contents` host, which has no box an IntersectionObserver could see — the
 * boxes of what it renders (its shadow root's children, a slot's assigned
 * elements), recursively.
 */
export function boxes(el: Element): Element[] {
  if (getComputedStyle(el).display !== 'contents') return [el];
  const kids = el.localName === 'slot' ? (el as HTMLSlotElement).assignedElements() : (el.shadowRoot ?? el).children;
  return [...kids].flatMap(boxes);
}

/** The strategies by name. `none` is not here: it never hydrates. */
export const strategies: Record<string, Strategy | undefined> = {
  load: async () => {},

  idle: () =>
    new Promise((resolve) => {
      const go = (): unknown =>
        win.requestIdleCallback ? win.requestIdleCallback(() => resolve(), { timeout: 2000 }) : setTimeout(resolve, 200);
      if (document.readyState === 'complete') go();
      else addEventListener('load', go, { once: true });
    }),

  visible: (el) =>
    new Promise((resolve) => {
      const targets = boxes(el);
      if (!win.IntersectionObserver || targets.length === 0) return resolve();
      const io = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          io.disconnect();
          resolve();
        }
      });
      for (const t of targets) io.observe(t);
    }),

  media: (_el, query) =>
    new Promise((resolve) => {
      const mql = win.matchMedia?.(query);
      // Without matchMedia (or, before Safari 14, its change events): now.
      if (!mql?.addEventListener || mql.matches) return resolve();
      mql.addEventListener('change', () => mql.matches && resolve());
    }),

  interaction: (el) =>
    new Promise((resolve) => {
      const release = hold(el, () => resolve(release));
    }),
};
