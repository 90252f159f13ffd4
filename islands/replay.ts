/**
 * The `interaction` strategy's listener: the first pointer, touch, focus,
 * key or click event inside the island fires the strategy, and every click
 * until hydration is done is held back (default action prevented, not
 * propagated) and replayed on its original target afterwards — so the click
 * that woke the island runs its handler exactly once, after hydration, and a
 * link or submit button inside still does its job.
 */

/** Events that count as the first interaction with an island. */
export const INTERACTION_EVENTS = ['pointerdown', 'touchstart', 'focusin', 'keydown', 'click', 'dblclick'] as const;

/**
 * Listens for interaction inside `el` (its light DOM and open shadow root)
 * and calls `fired` on the first one. Returns `release`, which stops
 * listening and re-dispatches every held click, in order.
 */
export function hold(el: Element, fired: () => void): () => void {
  const held: Array<[EventTarget, Event]> = [];
  const listener = (e: Event): void => {
    fired();
    if (e.type.endsWith('click')) {
      held.push([e.composedPath()[0]!, e]);
      e.preventDefault();
      e.stopPropagation();
    }
  };
  // Only the click listeners may cancel; the others stay passive (scrolling).
  const each = (add: 0 | 1): void => {
    for (const type of INTERACTION_EVENTS) {
      el[add ? 'addEventListener' : 'removeEventListener'](type, listener, { capture: true, passive: !type.endsWith('click') });
    }
  };
  each(1);
  return () => {
    each(0);
    // Called once (after hydration, or its failure). An event is a valid
    // init dictionary for a copy of itself.
    for (const [target, e] of held) target.dispatchEvent(new (e.constructor as typeof Event)(e.type, e));
  };
}
