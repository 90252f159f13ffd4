/**
 * Server hooks of <shop-product-list> (never bundled for the browser). The
 * list is the main content of the home page, a category page and search
 * results, so its head() gives those pages their title (docs/seo.md).
 */
import type { ElementContext, HeadContribution } from 'atoll-ssr';
import { categories, getCategory } from '../_lib/catalog.js';

/** For `atoll export`: one category page per category of the catalogue (docs/export.md). */
export function paths(): Array<{ name: string }> {
  return categories.map((c) => ({ name: c.slug }));
}

/** Title, description and canonical URL of the list's page. */
export function head(ctx: ElementContext): HeadContribution | undefined {
  const slug = ctx.attributes.category ?? '';
  const query = (ctx.attributes.query ?? '').trim();
  if (slug !== '') {
    const category = getCategory(slug);
    if (category === undefined) return { title: 'Unknown category', robots: 'noindex' };
    return {
      title: category.name,
      description: `${category.name} at Atoll Shop: ${category.blurb}`,
      canonical: `/category/${encodeURIComponent(category.slug)}`,
      meta: [
        { property: 'og:type', content: 'website' },
        { property: 'og:title', content: category.name },
        { property: 'og:description', content: category.blurb },
      ],
    };
  }
  if (query !== '') {
    // Search results are for people, not an index: every query would be a thin near-duplicate page.
    return { title: `Results for “${query}”`, description: `Atoll Shop products matching “${query}”.`, robots: 'noindex, follow', canonical: '/home' };
  }
  return { title: 'Everyday goods', canonical: '/home', meta: [{ property: 'og:type', content: 'website' }, { property: 'og:title', content: 'Atoll Shop' }] };
}
