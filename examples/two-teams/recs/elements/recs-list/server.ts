import type { ElementContext } from 'atoll-ssr';
import type { Rec } from './index.ts';

const catalog: Record<string, Rec[]> = {
  books: [
    { id: 'b1', title: 'The Reef Almanac', by: 'M. Ortega', price: 24 },
    { id: 'b2', title: 'Tides, Explained', by: 'J. Okafor', price: 18 },
    { id: 'b3', title: 'Salt & Light', by: 'A. Lindqvist', price: 31 },
  ],
  garden: [
    { id: 'g1', title: 'Copper watering can', by: 'Fenwick & Co', price: 42 },
    { id: 'g2', title: 'Seed tin, coastal mix', by: 'Dune Seeds', price: 9 },
    { id: 'g3', title: 'Linen kneeler', by: 'Hollow Tree', price: 27 },
  ],
};

/** Recommendations for the `category` attribute (an unknown category gets the books). */
export function data(ctx: ElementContext): { items: Rec[] } {
  return { items: catalog[ctx.attributes.category ?? ''] ?? catalog.books! };
}

/** Recommendations change slowly: let caches keep them a minute. */
export function headers(): HeadersInit {
  return { 'cache-control': 'public, max-age=60' };
}
