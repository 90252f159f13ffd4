/**
 * Server hooks of <shop-not-found> (never bundled for the browser): the 404
 * page asks crawlers not to index it (docs/seo.md).
 */
import type { HeadContribution } from 'atoll-ssr';

/** The 404 page's head. */
export function head(): HeadContribution {
  return { title: 'Page not found', description: 'This page does not exist at Atoll Shop.', robots: 'noindex' };
}
