/**
 * The demo shop's catalogue: categories, products and reviews.
 *
 * Everything here is generated once, at module load, from hand-written lists
 * and a small seeded generator, so the server and the browser always see the
 * same data for the same product id (no `Math.random`, no dates from a clock).
 */

/** The silhouette of a product's CSS-drawn image. */
export type ArtShape = 'mug' | 'block' | 'box' | 'bar' | 'disc' | 'dome' | 'peak' | 'tag' | 'vase';

/** A product category, addressed by its slug in `/category/:name`. */
export interface Category {
  readonly slug: string;
  readonly name: string;
  /** One line for headings and the hero. */
  readonly blurb: string;
  /** Three selling points shown on every product page of the category. */
  readonly features: readonly string[];
}

/** One product. Prices are integer cents; `rating` is 0–5 with one decimal. */
export interface Product {
  readonly id: string;
  readonly name: string;
  /** Slug of the product's {@link Category}. */
  readonly category: string;
  readonly price: number;
  readonly description: string;
  readonly rating: number;
  readonly reviewCount: number;
  /** Hue (0–359) and silhouette of the product's CSS-drawn image. */
  readonly hue: number;
  readonly shape: ArtShape;
}

/** One customer review; `rating` is a whole number of stars, 1–5. */
export interface Review {
  readonly id: string;
  readonly productId: string;
  readonly author: string;
  readonly rating: number;
  readonly title: string;
  readonly body: string;
  /** ISO date, `YYYY-MM-DD`. */
  readonly date: string;
}

/** All categories, in navigation order. */
export const categories: readonly Category[] = [
  {
    slug: 'kitchen',
    name: 'Kitchen',
    blurb: 'Tools and tableware for slow mornings and long dinners.',
    features: ['Food-safe, lead-free materials', 'Dishwasher friendly unless noted', 'Made in small batches'],
  },
  {
    slug: 'desk',
    name: 'Desk',
    blurb: 'Quiet objects for a tidy, focused workspace.',
    features: ['Solid materials, no veneers', 'Non-slip felt base', 'Designed to work together'],
  },
  {
    slug: 'audio',
    name: 'Audio',
    blurb: 'Warm sound for small rooms and long commutes.',
    features: ['Two-year warranty', 'Replaceable battery and cables', 'Tuned for natural, balanced sound'],
  },
  {
    slug: 'outdoors',
    name: 'Outdoors',
    blurb: 'Light, tough gear for weekends away.',
    features: ['Weather-resistant finish', 'Packs small, weighs little', 'Repair service for life'],
  },
  {
    slug: 'apparel',
    name: 'Apparel',
    blurb: 'Everyday layers in natural fibres.',
    features: ['Natural, traceable fibres', 'Free size exchanges', 'Cut to last, not to trend'],
  },
  {
    slug: 'home',
    name: 'Home',
    blurb: 'Soft light, warm textures, calm rooms.',
    features: ['Hand-finished details', 'Gift wrapping available', 'Packed without plastic'],
  },
];

/** Product names, list prices in whole dollars and art silhouettes, per category slug. */
const NAMES: Readonly<Record<string, readonly (readonly [string, number, ArtShape])[]>> = {
  kitchen: [
    ['Stoneware Mug', 24, 'mug'], ['Pour-Over Kettle', 68, 'dome'], ['Oak Cutting Board', 45, 'block'],
    ['Cast Iron Skillet', 59, 'disc'], ['Ceramic Teapot', 52, 'dome'], ['Linen Apron', 38, 'tag'],
    ['Glass Storage Jar', 16, 'box'], ["Chef's Knife", 129, 'bar'], ['Copper Measuring Cups', 34, 'mug'],
    ['Espresso Tamper', 29, 'mug'], ['Enamel Dutch Oven', 189, 'mug'],
  ],
  desk: [
    ['Walnut Desk Organizer', 64, 'block'], ['Brass Pen', 42, 'bar'], ['Dot Grid Notebook', 18, 'box'],
    ['Felt Desk Mat', 36, 'block'], ['Task Lamp', 119, 'peak'], ['Monitor Riser', 79, 'block'],
    ['Cable Tidy', 12, 'disc'], ['Desk Plant Pot', 22, 'mug'], ['Leather Mouse Pad', 32, 'block'],
    ['Pencil Cup', 19, 'mug'], ['Paper Tray', 27, 'block'],
  ],
  audio: [
    ['Wireless Headphones', 229, 'dome'], ['Bookshelf Speaker', 349, 'box'], ['Pocket Radio', 59, 'block'],
    ['Belt-Drive Turntable', 299, 'disc'], ['Everyday Earbuds', 129, 'disc'],
    ['Studio Microphone', 169, 'bar'], ['Portable Speaker', 89, 'box'], ['Headphone Stand', 39, 'bar'],
    ['Vinyl Cleaning Kit', 25, 'disc'], ['Audio Interface', 149, 'block'], ['Smart Speaker', 99, 'box'],
  ],
  outdoors: [
    ['Trail Backpack', 139, 'box'], ['Insulated Bottle', 32, 'vase'], ['Camping Lantern', 45, 'vase'],
    ['Parachute Hammock', 69, 'peak'], ['Folding Camp Chair', 79, 'box'], ['Trekking Poles', 95, 'bar'],
    ['Compact Stove', 54, 'mug'], ['Picnic Blanket', 48, 'block'], ['Packable Rain Shell', 159, 'tag'],
    ['Roll-Top Dry Bag', 28, 'vase'], ['Pocket Binoculars', 119, 'disc'],
  ],
  apparel: [
    ['Merino Beanie', 35, 'dome'], ['Canvas Tote', 29, 'box'], ['Lambswool Scarf', 65, 'bar'],
    ['Everyday Sneakers', 120, 'block'], ['Ribbed Socks', 15, 'bar'], ['Denim Jacket', 140, 'tag'],
    ['Heavyweight Tee', 38, 'tag'], ['Rain Boots', 95, 'box'], ['Leather Belt', 55, 'disc'],
    ['Knit Gloves', 30, 'box'], ['Bucket Hat', 34, 'dome'],
  ],
  home: [
    ['Linen Throw', 89, 'block'], ['Scented Candle', 26, 'mug'], ['Ceramic Vase', 48, 'vase'],
    ['Wool Rug', 249, 'block'], ['Table Lamp', 135, 'peak'], ['Wall Clock', 72, 'disc'],
    ['Cotton Cushion', 39, 'box'], ['Bamboo Tray', 31, 'block'], ['Glass Carafe', 28, 'vase'],
    ['Woven Basket', 44, 'mug'], ['Round Wall Mirror', 159, 'disc'],
  ],
};

/** First sentence of a description; `%` is the product's name in lower case. */
const OPENINGS = [
  'A % that does one job, and does it beautifully.',
  'A % with clean lines and materials that age well.',
  'An honest, hard-wearing %, made to be used every day.',
  'Our best-loved %: simple, sturdy and easy to care for.',
  'A quietly beautiful % from a family workshop we have known for a decade.',
  'The % we reach for first, designed to outlast the trends.',
];
const CLOSINGS = [
  'Finished by hand and checked twice before it ships.',
  'It brings a little calm to a busy day.',
  'Packed without plastic and backed by our repair promise.',
  'Give it a few months: it only gets better with age.',
  'Made in small batches, so each one is slightly different.',
];

const AUTHORS = [
  'Ana M.', 'Ben K.', 'Chloé R.', 'Dev P.', 'Emeka O.', 'Fatima Z.', 'Gus L.', 'Hana S.', 'Ivo T.', 'Jun W.',
  'Kira N.', 'Luis G.', 'Maya B.', 'Nils E.', 'Oona F.', 'Priya D.',
];
const REVIEW_TEXT: Readonly<Record<number, readonly (readonly [string, string])[]>> = {
  5: [
    ['Exactly what I hoped for', 'Beautifully made and it feels even better in person. I use it every day.'],
    ['Worth every cent', 'Arrived quickly, packed without plastic, and the quality is outstanding.'],
    ['Bought a second one', 'I liked the first one so much that I ordered another as a gift.'],
    ['A small luxury', 'The kind of object that makes an ordinary morning feel a bit special.'],
    ['Five stars, easily', 'Lovely details everywhere you look. Clearly made by people who care.'],
  ],
  4: [
    ['Very good', 'Great quality and a lovely colour. Slightly smaller than I expected, but I am happy.'],
    ['Solid choice', 'Does what it should and looks good doing it. Delivery took a few extra days.'],
    ['Nice everyday piece', 'Well made and simple. I would buy it again at this price.'],
    ['Almost perfect', 'I love it; the only thing missing is a second colour option.'],
  ],
  3: [
    ['Fine, not amazing', 'It works, but the finish is not quite as refined as the photos suggest.'],
    ['Decent', 'Good value overall, though I had hoped for a bit more attention to detail.'],
    ['Mixed feelings', 'Looks great, but it took me a while to get used to how it works.'],
  ],
  2: [
    ['Not for me', 'The colour was off compared with the page and it felt lighter than I expected.'],
    ['Expected more', 'Nice idea, but mine already shows wear after a few weeks.'],
  ],
  1: [
    ['Disappointed', 'Mine arrived with a scratch. Support was friendly and sent a replacement.'],
    ['Did not work out', 'It simply was not the right fit for me, and I sent it back. Returns were easy.'],
  ],
};
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** 32-bit FNV-1a hash of a string, used to seed {@link seeded}. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small deterministic generator (mulberry32): numbers in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

function slugify(name: string): string {
  return name.toLowerCase().replace(/'/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function describe(name: string, rng: () => number): string {
  // "Trekking Poles" → "pair of trekking poles", so that "A % that does…" reads well.
  const plural = /[^s]s$/.test(name);
  const noun = plural ? `${name.endsWith('Cups') ? 'set' : 'pair'} of ${name.toLowerCase()}` : name.toLowerCase();
  const opening = pick(rng, OPENINGS)
    .replace('%', noun)
    .replace(/^A (?=[aeiou])/, 'An ');
  return `${opening} ${pick(rng, CLOSINGS)}`;
}

function reviewRating(rng: () => number): number {
  const r = rng();
  return r < 0.45 ? 5 : r < 0.8 ? 4 : r < 0.93 ? 3 : r < 0.98 ? 2 : 1;
}

function makeReviews(productId: string, rng: () => number): Review[] {
  const count = 3 + Math.floor(rng() * 3);
  const reviews: Review[] = [];
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    const rating = reviewRating(rng);
    const texts = REVIEW_TEXT[rating] ?? [];
    const fresh = texts.filter(([title]) => !used.has(title));
    const [title, body] = pick(rng, fresh.length ? fresh : texts);
    used.add(title);
    const author = pick(rng, AUTHORS.filter((a) => !used.has(a)));
    used.add(author);
    const month = 1 + Math.floor(rng() * 12);
    const day = 1 + Math.floor(rng() * 28);
    const year = 2024 + Math.floor(rng() * 2);
    reviews.push({
      id: `${productId}-r${i + 1}`,
      productId,
      author,
      rating,
      title,
      body,
      date: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    });
  }
  // Newest first.
  return reviews.sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0));
}

const productList: Product[] = [];
const reviewsById = new Map<string, readonly Review[]>();

for (const category of categories) {
  for (const [name, dollars, shape] of NAMES[category.slug] ?? []) {
    const id = slugify(name);
    const rng = seeded(hash(id));
    const reviews = makeReviews(id, rng);
    const average = reviews.reduce((sum, r) => sum + r.rating, 0) / reviews.length;
    productList.push({
      id,
      name,
      category: category.slug,
      price: dollars * 100,
      description: describe(name, rng),
      rating: Math.round(average * 10) / 10,
      reviewCount: reviews.length,
      hue: Math.floor(rng() * 360),
      shape,
    });
    reviewsById.set(id, reviews);
  }
}

/** All products, grouped by category in navigation order. */
export const products: readonly Product[] = productList;

/** The product with this id, or `undefined` for an unknown id. */
export function getProduct(id: string): Product | undefined {
  return products.find((p) => p.id === id);
}

/** The category with this slug, or `undefined` for an unknown slug. */
export function getCategory(slug: string): Category | undefined {
  return categories.find((c) => c.slug === slug);
}

/** The reviews of a product, newest first; empty for an unknown id. */
export function getReviews(productId: string): readonly Review[] {
  return reviewsById.get(productId) ?? [];
}

/**
 * Products filtered by category slug and/or a case-insensitive name search.
 * An empty category or query means "no filter".
 */
export function findProducts(category = '', query = ''): readonly Product[] {
  const needle = query.trim().toLowerCase();
  return products.filter(
    (p) => (!category || p.category === category) && (!needle || p.name.toLowerCase().includes(needle)),
  );
}

/** `2950` → `"$29.50"`, without `Intl` so that server and browser always agree. */
export function formatPrice(cents: number): string {
  const dollars = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `$${dollars}.${String(cents % 100).padStart(2, '0')}`;
}

/** `"2025-03-07"` → `"7 Mar 2025"`, without `Intl` or the local time zone. */
export function formatDate(iso: string): string {
  const [year, month, day] = iso.split('-');
  return `${Number(day)} ${MONTHS[Number(month) - 1] ?? ''} ${year}`;
}
