/// <reference types="mocha" />
/**
 * The promise of islands at scale: on a page of 50 islands, each with its
 * own module, of which 5 are in the viewport, the browser requests the
 * modules of those 5 (plus shared chunks) and no others — until the user
 * scrolls to the rest.
 */
import { expect } from '@esm-bundle/chai';
import { setViewport } from '@web/test-runner-commands';
import { frames, loadPage, until } from './islands-helpers.ts';

const TILES = 50;
const VISIBLE = 5;
const tag = (i: number): string => `m-tile-${String(i).padStart(2, '0')}`;
/** Which tiles' entry modules appear in a list of requested paths. */
const entriesIn = (paths: readonly string[]): string[] =>
  paths.map((p) => /\/_atoll\/assets\/(m-tile-\d\d)-[\w-]+\.js$/.exec(p)?.[1]).filter((t): t is string => t !== undefined).sort();

describe('a page of 50 islands', function () {
  this.timeout(20_000);

  // The frame must fit in the test page's viewport: an iframe's
  // IntersectionObserver also clips by the top-level viewport.
  before(() => setViewport({ width: 1000, height: 1100 }));
  after(() => setViewport({ width: 800, height: 600 }));

  it('with 5 in view requests only those 5 modules plus shared chunks', async () => {
    // 180 px tiles with 20 px gaps: tiles 0–4 end at 980 px, tile 5 starts at 1000 px.
    const page = await loadPage('/atoll/many/', { width: 600, height: 990 });
    // Every tile is an island; the visible ones may already be hydrating (the head, with the loader,
    // reaches the browser before the tiles render on the server, so it can act before 'load').
    expect(page.doc.querySelectorAll(Array.from({ length: TILES }, (_, i) => tag(i)).join(', ')).length).to.equal(TILES);
    expect(page.doc.querySelectorAll('[defer-hydration]').length).to.be.at.least(TILES - VISIBLE);
    const hydrated = (): string[] => page.win.__atollEvents.map((e) => e.id).sort();
    const firstFive = Array.from({ length: VISIBLE }, (_, i) => tag(i));
    await until(page.win, 'the visible tiles to hydrate', () => hydrated().length >= VISIBLE);
    await frames(page.win, 5);
    expect(hydrated()).to.deep.equal(firstFive);

    const scripts = page.win.performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => p.endsWith('.js'));
    expect(entriesIn(scripts), 'element modules requested').to.deep.equal(firstFive);
    // (The client router, imported at `load` by pages served with navigation on, is no element module: docs/navigation.md.)
    const others = scripts.filter((p) => !/\/m-tile-\d\d-/.test(p) && !/\/router-[\w-]+\.js$/.test(p));
    expect(others.length, 'some shared chunks (Lit, the tile base class)').to.be.greaterThan(0);
    for (const p of others) expect(p, 'anything else is a shared chunk').to.match(/\/_atoll\/assets\/chunks\//);
    for (let i = VISIBLE; i < TILES; i++) {
      expect(page.doc.querySelector(tag(i))!.hasAttribute('defer-hydration'), `${tag(i)} waits`).to.equal(true);
    }

    // Scrolling to the end brings in the last tile's module.
    page.doc.querySelector(tag(TILES - 1))!.scrollIntoView();
    await until(page.win, 'the last tile to hydrate', () => hydrated().includes(tag(TILES - 1)));
    const after = entriesIn(page.win.performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    expect(after).to.include(tag(TILES - 1));
    expect(after).to.not.include(tag(25));
  });
});
