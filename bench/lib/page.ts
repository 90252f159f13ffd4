/**
 * The pages every server serves, and how a served page is checked. Each page
 * shape ({@link PAGES}) is a list of top-level elements with their attributes;
 * its reference is Atoll's render of it (the demo's `/home` from the
 * repository's own site, the others from the bench-only site
 * `bench/sites/pages/`). The reference's exact bytes are the static limit;
 * split at its top-level elements they give the layout's static HTML that the
 * hand-rolled peers put around the same elements.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioName } from './scenarios.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DIR = join(REPO_ROOT, 'bench');
/** The demo's home page (also used by the islands bench). */
export const PAGE_PATH = '/home';
/** The demo's client build, shared by the bench-only sites (they serve the demo's elements). */
export const CLIENT_DIR = join(REPO_ROOT, '.atoll', 'client');

/** Text that only a correctly rendered hero contains. */
export const HERO_HEADING = 'Small things, made well.';

/** One top-level element of a page, as the layout writes it. */
export interface PageElement {
  tag: string;
  /** Its attributes as written in the layout's HTML ('' for none); every peer writes the same. */
  attrs: string;
}

export type PageName = 'home' | 'shop-50' | 'cards-1000';

export interface PageShape {
  name: PageName;
  /** Shown in headings. */
  label: string;
  path: string;
  /** Atoll's site when nothing is slow (the slow scenarios have their own sites, which serve every page). */
  site: string;
  /** Top-level elements in document order. */
  elements: readonly PageElement[];
  /** Texts only a correctly rendered page contains. */
  markers: readonly string[];
  /** The scenarios this page runs in. */
  scenarios: readonly ScenarioName[];
  /**
   * At most this many concurrent connections under load: a 1 MB page takes
   * tens of ms to render, and with 32 connections each request would wait
   * seconds in the queue (a 2-core server is saturated by a few).
   */
  maxConnections?: number;
}

const el = (tag: string, attrs = ''): PageElement => ({ tag, attrs });
const PAGES_SITE = join(BENCH_DIR, 'sites', 'pages');

export const PAGES: Readonly<Record<PageName, PageShape>> = {
  home: {
    name: 'home',
    label: 'the demo’s `/home` (4 elements, 66 cards)',
    path: '/home',
    site: REPO_ROOT,
    elements: [el('shop-navbar'), el('shop-hero'), el('shop-product-list', 'query=""'), el('shop-footer', 'hydrate="none"')],
    markers: [HERO_HEADING],
    scenarios: ['load', 'slow-one', 'slow-three'],
  },
  'shop-50': {
    name: 'shop-50',
    label: 'the shop page `/shop-50` (5 elements, 50 cards)',
    path: '/shop-50',
    site: PAGES_SITE,
    elements: [el('shop-navbar'), el('shop-hero'), el('bench-card-grid', 'count="50"'), el('bench-newsletter'), el('shop-footer', 'hydrate="none"')],
    markers: [HERO_HEADING, 'New things, once a month', '50 cards'],
    scenarios: ['load', 'slow-one', 'slow-three'],
  },
  'cards-1000': {
    name: 'cards-1000',
    label: 'the 1,000-card page `/cards-1000` (3 elements)',
    path: '/cards-1000',
    site: PAGES_SITE,
    elements: [el('shop-navbar'), el('bench-card-grid', 'count="1000"'), el('shop-footer', 'hydrate="none"')],
    markers: ['1000 cards'],
    scenarios: ['load'],
    maxConnections: 4,
  },
};

export function isPageName(s: string): s is PageName {
  return Object.hasOwn(PAGES, s);
}

/** The reference page and where its elements are. */
export interface ReferencePage {
  html: string;
  /** `elements.length + 1` static strings around the elements. */
  segments: string[];
  /** Offset in `html` where each element's open tag starts. */
  starts: number[];
}

/** Splits a rendered page into static segments around its top-level elements. */
export function splitPage(html: string, shape: PageShape): ReferencePage {
  const segments: string[] = [];
  const starts: number[] = [];
  let cursor = 0;
  for (const { tag } of shape.elements) {
    const start = findOpenTag(html, tag, cursor);
    const close = `</${tag}>`;
    const end = html.indexOf(close, start);
    if (end < 0) throw new Error(`the reference page ${shape.path} has no ${close}`);
    segments.push(html.slice(cursor, start));
    starts.push(start);
    cursor = end + close.length;
  }
  segments.push(html.slice(cursor));
  return { html, segments, starts };
}

function findOpenTag(html: string, tag: string, from: number): number {
  for (let i = html.indexOf(`<${tag}`, from); i >= 0; i = html.indexOf(`<${tag}`, i + 1)) {
    const next = html[i + tag.length + 1];
    if (next === ' ' || next === '>') return i;
  }
  throw new Error(`the reference page has no <${tag}>`);
}

/** Renders a page with Atoll from its site (nothing slow), with the demo's client build. */
export async function renderReferencePage(shape: PageShape): Promise<string> {
  const { createAtoll, silentLogger } = await import('../../ssr-server/index.ts');
  const atoll = await createAtoll({ root: shape.site, logger: silentLogger, client: { outDir: CLIENT_DIR } });
  const page = await atoll.render(shape.path);
  if (page.status !== 200) throw new Error(`Atoll rendered ${shape.path} with status ${page.status}`);
  return page.html;
}

/**
 * The reference page: from the file the driver wrote (`BENCH_PAGE_FILE`), or
 * rendered here when a server is started on its own.
 */
export async function loadReferencePage(shape: PageShape): Promise<ReferencePage> {
  const file = process.env.BENCH_PAGE_FILE;
  return splitPage(file ? readFileSync(file, 'utf8') : await renderReferencePage(shape), shape);
}

/** What a correct page contains, counted on the reference. */
export interface PageExpectations {
  shape: PageShape;
  cards: number;
  shadowRoots: number;
}

export function expectationsOf(shape: PageShape, reference: string): PageExpectations {
  return { shape, cards: count(reference, '<shop-product-card'), shadowRoots: count(reference, 'shadowrootmode="open"') };
}

/** The result of checking one response body. */
export interface PageCheck {
  ok: boolean;
  summary: string;
  problems: string[];
}

/** Checks that a body shows the same page as the reference. */
export function checkPage(html: string, expected: PageExpectations): PageCheck {
  const problems: string[] = [];
  const cards = count(html, '<shop-product-card');
  const roots = count(html, 'shadowrootmode="open"');
  if (cards !== expected.cards) problems.push(`${cards} <shop-product-card> (expected ${expected.cards})`);
  if (roots !== expected.shadowRoots) problems.push(`${roots} declarative shadow roots (expected ${expected.shadowRoots})`);
  for (const { tag } of expected.shape.elements) {
    if (!new RegExp(`<${tag}\\b[^>]*><template [^>]*shadowrootmode="open"`).test(html)) problems.push(`<${tag}> has no declarative shadow root`);
  }
  const missing = expected.shape.markers.filter((m) => !html.includes(m));
  for (const m of missing) problems.push(`"${m}" is missing`);
  if (html.includes('atoll-fallback')) problems.push('an element fell back');
  if (html.includes('[object Promise]')) problems.push('a Promise was rendered as text');
  if (!html.trimEnd().endsWith('</html>')) problems.push('the document does not end with </html>');
  const kb = (Buffer.byteLength(html) / 1024).toFixed(1);
  const summary = `${kb} KB, ${cards} cards, ${roots} shadow roots, markers ${missing.length === 0 ? 'yes' : 'MISSING'}`;
  return { ok: problems.length === 0, summary, problems };
}

function count(s: string, needle: string): number {
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}
