/**
 * Server hooks of <shop-settings> (never bundled for the browser): the
 * settings page's head (docs/seo.md). A page whose primary has a `head()`
 * hook is never kept by a client navigation (docs/navigation.md); the
 * settings form need not be.
 */
import type { HeadContribution } from 'atoll-ssr';

/** The settings page is titled "Settings" (through the layout's title template: "Settings — Atoll Shop"). */
export function head(): HeadContribution {
  return {
    title: 'Settings',
    description: 'Choose how Atoll Shop looks and what it sends you. Preferences are stored in this browser only.',
  };
}
