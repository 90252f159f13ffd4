/**
 * Server hooks of <shop-product> (never bundled for the browser). The product
 * page's `primary` element: an unknown id answers the whole page with 404,
 * and a product page may be cached for a minute.
 */
import { notFound, type ElementContext } from 'atoll-ssr';
import { getProduct, products } from '../_lib/catalog.js';

/** Checks that the product exists; the element renders it from the catalogue. */
export function data(ctx: ElementContext): Record<string, unknown> {
  if (getProduct(ctx.attributes['product-id'] ?? '') === undefined) throw notFound(`no product "${ctx.attributes['product-id']}"`);
  return {};
}

/** Product pages change rarely. */
export function headers(): HeadersInit {
  return { 'cache-control': 'public, max-age=60' };
}

/** For `atoll export`: one product page per product in the catalogue (docs/export.md). */
export function paths(): Array<{ id: string }> {
  return products.map((p) => ({ id: p.id }));
}
