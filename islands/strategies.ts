/**
 * The hydration strategies (SPEC 5) as a table. Each entry takes the element
 * and the text after `:` in its `hydrate` attribute, and returns a Promise
 * that resolves when the element should hydrate. An API that a browser
 * able to run the loader (ES2020: Chromium 80, Firefox 74, Safari 13.1) may
 * lack is feature-detected, and the strategy degrades to "now" without it —
 * `requestIdleCallback` (Safari: a timeout instead), `MediaQueryList` change
 * events (Safari before 14). IntersectionObserver and matchMedia are in all
 * of them.
 */

/**
 * A strategy: resolves when `el` should hydrate. Input inside the island
 * also wakes it (see `replay.ts`): the loader races the two.
 */
export type Strategy = (el: Element, arg: string) => Promise<unknown>;

const win: Partial<Window> & typeof globalThis = window;

// Page-wide conditions, computed once per page: one idle wait for all `idle`
// (and boxless `visible`) islands, one MediaQueryList per distinct query.
let idle: Promise<void> | undefined;
const media: Record<string, Promise<void>> = {};

/**
 * The strategies by name. `none` is not here: it never hydrates. No
 * prototype: a `hydrate` value such as `constructor` or `__proto__` (an island
 * added by a script) finds nothing here and gets the default.
 */
export const strategies: Record<string, Strategy | null | undefined> = {
  __proto__: null,
  load: async () => {},

  idle: () =>
    (idle ||= new Promise<void>((resolve) => {
      const go = (): unknown =>
        win.requestIdleCallback ? win.requestIdleCallback(() => resolve(), { timeout: 2000 }) : setTimeout(resolve, 200);
      if (document.readyState === 'complete') go();
      else addEventListener('load', go);
    })),

  // When what the element renders intersects the viewport. No style or
  // layout read: the IntersectionObserver's first report on each target
  // says whether it has a box. A target with none reports a rect of zero
  // size (Chromium and Firefox: all zeros; WebKit: zero size at the place
  // it would be, e.g. inside a closed <details>; a real empty box in view
  // intersects, and one out of view at worst hydrates at idle) and is either
  // `display: contents` or not rendered at all (`hidden`, inside `display:
  // none`, in a closed <details>); what it renders — its shadow root's
  // children (or its own), a slot's assigned elements — is observed in its
  // place, level by level. An island with no box anywhere would never
  // intersect: it hydrates at idle, or when it gets a box in the viewport,
  // whichever comes first, so a closed dialog's `show()` exists once the
  // page is idle. With the threshold 0, a target reports again only when it
  // starts intersecting.
  visible: (el) =>
    new Promise<void>((resolve) => {
      // Targets not yet reported; Infinity once one has a box (then only intersecting wakes it).
      let open = 0;
      const done = (): void => {
        io.disconnect();
        resolve();
      };
      const watch = (t: Element): void => {
        open++;
        io.observe(t);
      };
      const io = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (e.isIntersecting) return done();
          const r = e.boundingClientRect;
          if (r.width || r.height) open = Infinity;
          else {
            open--;
            const t = e.target;
            for (const k of t.localName === 'slot' ? (t as HTMLSlotElement).assignedElements() : (t.shadowRoot ?? t).children) watch(k);
          }
        }
        if (!open) strategies.idle!(el, '').then(done);
      });
      watch(el);
    }),

  media: (_el, query) =>
    (media[query] ||= new Promise<void>((resolve) => {
      const mql = matchMedia(query);
      // Without change events (before Safari 14): now.
      if (!mql.addEventListener || mql.matches) return resolve();
      mql.addEventListener('change', () => mql.matches && resolve());
    })),

  // Only the first input inside the island (`replay.ts`) wakes it.
  interaction: () => new Promise(() => {}),
};
