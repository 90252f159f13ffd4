/**
 * Server hooks of <shop-product> (never bundled for the browser). The product
 * page's `primary` element: an unknown id answers the whole page with 404,
 * and a product page may be cached for a minute.
 */
import { notFound, type ElementContext, type HeadContribution } from 'atoll-ssr';
import { getCategory, getProduct, products } from '../_lib/catalog.js';

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

/**
 * The product page's head (docs/seo.md): its own title, description and
 * canonical URL, Open Graph with the price, and schema.org Product JSON-LD.
 * Relative URLs in head fields become absolute against the config's
 * `publicOrigin` (without one they stay paths); JSON-LD is written as given,
 * so this hook makes its URLs absolute with `ctx.publicOrigin` when the site
 * has one (root-relative otherwise).
 */
export function head(ctx: ElementContext): HeadContribution | undefined {
  const product = getProduct(ctx.attributes['product-id'] ?? '');
  if (product === undefined) return undefined;
  const path = `/products/${encodeURIComponent(product.id)}`;
  const image = '/favicon.svg';
  // Atoll resolves the head's own URLs (canonical, og:*) against publicOrigin;
  // JSON-LD is opaque data, so its URLs are made absolute here when it is known.
  const absolute = (url: string): string => (ctx.publicOrigin === undefined ? url : new URL(url, ctx.publicOrigin).href);
  const price = (product.price / 100).toFixed(2);
  const category = getCategory(product.category);
  return {
    title: product.name,
    description: product.description,
    canonical: path,
    meta: [
      { property: 'og:type', content: 'product' },
      { property: 'og:title', content: product.name },
      { property: 'og:description', content: product.description },
      { property: 'og:url', content: path },
      { property: 'og:image', content: image },
      { property: 'product:price:amount', content: price },
      { property: 'product:price:currency', content: 'USD' },
      { name: 'twitter:card', content: 'summary' },
    ],
    jsonLd: {
      '@context': 'https://schema.org',
      '@type': 'Product',
      name: product.name,
      description: product.description,
      image: absolute(image),
      sku: product.id,
      url: absolute(path),
      ...(category === undefined ? {} : { category: category.name }),
      brand: { '@type': 'Brand', name: 'Atoll Shop' },
      ...(product.reviewCount > 0 ? { aggregateRating: { '@type': 'AggregateRating', ratingValue: product.rating, reviewCount: product.reviewCount } } : {}),
      offers: {
        '@type': 'Offer',
        url: absolute(path),
        price,
        priceCurrency: 'USD',
        availability: 'https://schema.org/InStock',
      },
    },
  };
}
