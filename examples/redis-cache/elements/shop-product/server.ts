import { notFound, type ElementContext } from 'atoll-ssr';

const products: Record<string, { name: string; price: number }> = {
  mug: { name: 'Stoneware mug', price: 18 },
  teapot: { name: 'Cast-iron teapot', price: 64 },
};

export function data(ctx: ElementContext) {
  const id = ctx.attributes['product-id'] ?? '';
  const product = products[id];
  if (product === undefined) throw notFound();
  return product;
}

/** `POST /_atoll/cache/purge?tag=product:mug` drops this rendering on every instance. */
export function cacheTags(ctx: ElementContext) {
  return [`product:${ctx.attributes['product-id']}`, 'products'];
}
