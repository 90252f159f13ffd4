// Server hooks: data() runs before the element renders; its keys become properties.
import { notFound, type ElementContext } from 'atoll-ssr';

export function data(ctx: ElementContext): Record<string, unknown> {
  // notFound() must be the engine's own HttpSignal for the page to become a 404.
  if (ctx.query.has('missing')) throw notFound('no such counter');
  return { count: 5, label: 'cjs-legacy' };
}
