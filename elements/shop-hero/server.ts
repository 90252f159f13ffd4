/**
 * Server hooks of <shop-hero> (never bundled for the browser). The banner
 * shows how many products the shop has; the count comes from here as a
 * serialized property, so the hero's browser module does not import the
 * whole catalogue for one number (the hero is on the first screen, whose
 * modules are fetched and evaluated before it hydrates).
 */
import { products } from '../_lib/catalog.js';

/** The number of products the banner names. */
export function data(): Record<string, unknown> {
  return { count: products.length };
}
