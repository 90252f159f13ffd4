// Server hooks in plain JavaScript.
import { notFound } from 'atoll-ssr';

/** @param {import('atoll-ssr').ElementContext} ctx */
export function data(ctx) {
  if (ctx.query.has('missing')) throw notFound('no such counter');
  return { count: 5, label: 'none-js' };
}
