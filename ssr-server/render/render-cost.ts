/**
 * When the drain should send what it holds before an element renders
 * (issue 14: the head before heavy renders). Each layout element's last
 * synchronous host render is measured; an element's thunk in the page body
 * says it blocks (`BlockingHint`, chunks.ts) when that render is about to
 * run and was heavy, or has never been measured — with a lower bar before a
 * page's first render, so the head and everything before the first element
 * leave first. Render-cache hits count as free.
 */
import type { ElementOp } from '../layout/ops.ts';
import type { BlockingHint, OutputThunk } from './chunks.ts';
import type { ElementWork } from './element-work.ts';

/**
 * A synchronous host render at least this long (ms, as last measured for the
 * same layout element) is heavy: the drain sends what it holds before it.
 */
export const HEAVY_RENDER_MS = 0.5;
/**
 * Before a page's first element render, the bar is lower: the head and
 * everything before the first element go out before any real render (a
 * render-cache hit, a few microseconds, is no reason for a write of its own).
 */
export const FIRST_RENDER_MS = 0.05;

/** The last measured synchronous host render of each layout element (ms). */
const renderCost = new WeakMap<ElementOp, number>();

/** True when this element's host will be rendered (not taken from a render or cache, not waiting, not a fallback). */
const rendersNow = (work: ElementWork): boolean =>
  work.outcome?.kind === 'ok' && work.renderMs === undefined && work.cacheRemaining === undefined && work.op.ssr && work.def.kind === 'module';

/**
 * An element's place in the page body. It renders the host when the drain
 * reaches it, measuring how long a synchronous render takes, and tells the
 * drain ({@link BlockingHint}) when that render is heavy — or not measured
 * yet — so the head and everything before it go out first.
 */
export function elementThunk(work: ElementWork, page: { sentBeforeRender: boolean }): OutputThunk & BlockingHint {
  const thunk: OutputThunk & BlockingHint = () => {
    if (!rendersNow(work)) return work.render();
    const started = performance.now();
    const out = work.render();
    // A render-cache hit is no render: it counts as free, whatever the clock said on a busy machine.
    renderCost.set(work.op, work.cacheRemaining !== undefined ? 0 : performance.now() - started);
    return out;
  };
  thunk.blocks = () => {
    if (!rendersNow(work)) return false;
    const cost = renderCost.get(work.op) ?? Infinity;
    if (cost < (page.sentBeforeRender ? HEAVY_RENDER_MS : FIRST_RENDER_MS)) return false;
    page.sentBeforeRender = true;
    return true;
  };
  return thunk;
}
