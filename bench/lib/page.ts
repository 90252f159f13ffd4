/**
 * The page every server serves: the demo shop's `/home`, as Atoll renders it
 * from the repository's own site. Its exact bytes are the static limit; split
 * at its top-level elements they give the layout's static HTML that the
 * hand-rolled peers put around the same elements.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DIR = join(REPO_ROOT, 'bench');
export const PAGE_PATH = '/home';

/** The layout's elements on `/home`, in document order. */
export const PAGE_ELEMENTS = ['shop-navbar', 'shop-hero', 'shop-product-list', 'shop-footer'] as const;
export type PageTag = (typeof PAGE_ELEMENTS)[number];

/** Text that only a correctly rendered hero contains. */
export const HERO_HEADING = 'Small things, made well.';

/** The reference page and where its elements are. */
export interface ReferencePage {
  html: string;
  /** `PAGE_ELEMENTS.length + 1` static strings around the elements. */
  segments: string[];
  /** Offset in `html` where each element's open tag starts. */
  starts: number[];
}

/** Splits a rendered page into static segments around its top-level elements. */
export function splitPage(html: string): ReferencePage {
  const segments: string[] = [];
  const starts: number[] = [];
  let cursor = 0;
  for (const tag of PAGE_ELEMENTS) {
    const start = findOpenTag(html, tag, cursor);
    const close = `</${tag}>`;
    const end = html.indexOf(close, start);
    if (end < 0) throw new Error(`the reference page has no ${close}`);
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

/** Renders `/home` with Atoll from the repository's own site. */
export async function renderReferencePage(): Promise<string> {
  const { createAtoll, silentLogger } = await import('../../ssr-server/index.ts');
  const atoll = await createAtoll({ root: REPO_ROOT, logger: silentLogger });
  const page = await atoll.render(PAGE_PATH);
  if (page.status !== 200) throw new Error(`Atoll rendered ${PAGE_PATH} with status ${page.status}`);
  return page.html;
}

/**
 * The reference page: from the file the driver wrote (`BENCH_PAGE_FILE`), or
 * rendered here when a server is started on its own.
 */
export async function loadReferencePage(): Promise<ReferencePage> {
  const file = process.env.BENCH_PAGE_FILE;
  return splitPage(file ? readFileSync(file, 'utf8') : await renderReferencePage());
}

/** What a correct page contains, counted on the reference. */
export interface PageExpectations {
  cards: number;
  shadowRoots: number;
}

export function expectationsOf(reference: string): PageExpectations {
  return { cards: count(reference, '<shop-product-card'), shadowRoots: count(reference, 'shadowrootmode="open"') };
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
  for (const tag of PAGE_ELEMENTS) {
    if (!new RegExp(`<${tag}\\b[^>]*><template [^>]*shadowrootmode="open"`).test(html)) problems.push(`<${tag}> has no declarative shadow root`);
  }
  if (!html.includes(HERO_HEADING)) problems.push('the hero heading is missing');
  if (html.includes('atoll-fallback')) problems.push('an element fell back');
  if (html.includes('[object Promise]')) problems.push('a Promise was rendered as text');
  if (!html.trimEnd().endsWith('</html>')) problems.push('the document does not end with </html>');
  const kb = (Buffer.byteLength(html) / 1024).toFixed(1);
  const summary = `${kb} KB, ${cards} cards, ${roots} shadow roots, hero ${html.includes(HERO_HEADING) ? 'yes' : 'NO'}`;
  return { ok: problems.length === 0, summary, problems };
}

function count(s: string, needle: string): number {
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}
