/**
 * Server hooks of <shop-reviews> (never bundled for the browser): reviews
 * change more often than products, so they shorten the page's lifetime.
 */
export function headers(): HeadersInit {
  return { 'cache-control': 'public, max-age=30' };
}
