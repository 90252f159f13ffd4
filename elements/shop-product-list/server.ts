/**
 * Server hooks of <shop-product-list> (never bundled for the browser).
 */
import { categories } from '../_lib/catalog.js';

/** For `atoll export`: one category page per category of the catalogue (docs/export.md). */
export function paths(): Array<{ name: string }> {
  return categories.map((c) => ({ name: c.slug }));
}
