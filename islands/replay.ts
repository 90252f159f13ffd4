/**
 * No input lost before hydration (SPEC 5), for every strategy.
 *
 * One capturing listener per event type on `window` (installed once per
 * page, before any page listener can see the event) looks at each pointer,
 * mouse, key, focus and form event: when its composed path goes through an
 * island that has not hydrated yet, the event is held — its propagation
 * stopped there, so no listener (the page's or the island's) sees it now —
 * and replayed once after hydration, on its original target, as a copy of
 * itself. Default actions are left alone (focus moves, text is typed, a text
 * selection starts), except a click's: it is prevented and the replayed
 * click, whose activation behaviour runs, follows the link, submits the
 * form or toggles the checkbox instead — exactly once.
 *
 * `input` and `change` are held but not replayed: their targets are
 * recorded (`typed`), and `hydrate.ts` puts those controls' state back after
 * hydration (which may have overwritten it) and dispatches one `input` and
 * one `change` on each.
 *
 * Such an event also says the island is needed now: it wakes it (the
 * `interaction` strategy is exactly that; `visible`, `idle` and `load`
 * islands hydrate at once rather than later). A `media` island is static
 * HTML by design while its query does not match: until the query matches,
 * events inside it are neither held nor do they wake it.
 */

/** Events held inside a not-yet-hydrated island (a touch starts with `pointerdown`). */
const EVENTS = 'pointerdown pointerup mousedown mouseup click dblclick keydown keyup focusin focusout focus blur input change'.split(' ');

/**
 * What {@link hold} returns: `woken` resolves on the first event inside the
 * island (not while gated); `open()` says the strategy has fired (a gated
 * island holds events from then on); `release()` stops holding and replays
 * what was held, in order — call it once, after hydration or its failure
 * (`first` runs between the two: its events are not held);
 * `typed` is the form controls that got `input` or `change` events while
 * held: what the user typed into.
 */
export type Hold = [woken: Promise<void>, open: () => void, release: (first?: () => void) => void, typed: Set<EventTarget>];

/** The islands holding input: element → what to do with an event inside it (and its original target). */
const holding = new Map<EventTarget, (e: Event, target: EventTarget) => void>();

function listener(e: Event): void {
  const path = e.composedPath();
  for (const node of path) {
    const h = holding.get(node);
    if (h) return h(e, path[0]!);
  }
}

/**
 * Holds input inside `el` (its light DOM and open shadow root) until
 * `release()`. `gated`: not before `open()` (a `media` island).
 */
export function hold(el: Element, gated?: boolean): Hold {
  if (!holding.size) for (const type of EVENTS) addEventListener(type, listener, true);
  let wake!: () => void;
  const held: Array<[EventTarget, Event]> = [];
  const typed = new Set<EventTarget>();
  holding.set(el, (e, target) => {
    if (gated) return;
    wake();
    if (e.type === 'input' || e.type === 'change') typed.add(target);
    else {
      held.push([target, e]);
      if (e.type.endsWith('click')) e.preventDefault();
    }
    e.stopImmediatePropagation();
  });
  return [
    new Promise((resolve) => (wake = resolve)),
    () => (gated = false),
    (first) => {
      holding.delete(el);
      first?.();
      // An event is a valid init dictionary for a copy of itself.
      for (const [target, e] of held) target.dispatchEvent(new (e.constructor as typeof Event)(e.type, e));
    },
    typed,
  ];
}
