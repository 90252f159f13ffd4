/// <reference types="mocha" />
/**
 * What the first screen gains (issue 10 item 5, docs/islands.md "The first
 * screen hydrates at once, in one task"):
 *
 * - groups whose strategies fire together hydrate in one task, once all
 *   their modules are in (one style and layout pass, not one per group):
 *   two `idle` groups with modules of their own (fixture `/together`);
 * - a `visible` island whose module `<atoll-head>` modulepreloads (the
 *   server's first-screen guess) hydrates at once, without waiting for the
 *   IntersectionObserver: on the demo's /home in a frame too short to show
 *   the hero, the hero hydrates anyway (strategy still reported as
 *   `visible`), and the product list (not preloaded) does not;
 * - the demo's product cards skip rendering while off screen
 *   (`content-visibility: auto` with a remembered intrinsic size).
 */
import { expect } from '@esm-bundle/chai';
import { products } from '../../elements/_lib/catalog.ts';
import { event, frames, loadPage, moduleOf, until, type RecordedEvent } from './islands-helpers.ts';

type Lit = HTMLElement & { hasUpdated?: boolean };

describe('island loader: the first screen', function () {
  this.timeout(20_000);

  it('groups whose strategies fire together hydrate in the same task', async () => {
    // Two `idle` groups fire at the page's one idle callback; each has modules of its own
    // (four imports, each evaluated in a task of its own).
    const page = await loadPage('/atoll/islands/together');
    const ids = ['tabs', 't1', 't2', 'sel', 'o1', 'o2'];
    for (const id of ids) await event(page, id);
    const hydrated = page.win.__atollEvents.filter((e) => e.type === 'atoll:hydrated') as Array<RecordedEvent & { task: number }>;
    expect(hydrated.map((e) => e.id)).to.have.members(ids);
    expect(new Set(hydrated.map((e) => e.task)).size, JSON.stringify(hydrated.map((e) => [e.id, e.task]))).to.equal(1);
    expect((page.doc.getElementById('sel') as HTMLElement & { value: string }).value, 'the groups hydrated whole').to.equal('b');
  });

  it('a visible island whose module the page modulepreloads hydrates without being in view; one not preloaded waits', async () => {
    const page = await loadPage('/atoll/demo/home', { width: 412, height: 40 });
    const preloaded = [...page.doc.querySelectorAll('link[rel=modulepreload]')].map((l) => l.getAttribute('href')!);
    expect(preloaded.some((h) => /shop-hero/.test(h)), 'the hero is in the first-screen guess').to.equal(true);
    expect(preloaded.some((h) => /shop-product-list/.test(h)), 'the list is not').to.equal(false);
    const hero = page.doc.querySelector('shop-hero') as Lit;
    const list = page.doc.querySelector('shop-product-list') as Lit;
    expect(hero.getBoundingClientRect().top, 'the hero is below the frame').to.be.greaterThan(40);
    await until(page.win, 'the hero to hydrate', () => hero.hasUpdated === true);
    await frames(page.win, 10);
    expect(list.hasAttribute('defer-hydration'), 'the list still waits to be seen').to.equal(true);
    // The hero's product count is a property from its data() hook, not the catalogue module:
    // hydrated, it still names the count, and the first screen fetched no catalogue chunk.
    expect(hero.shadowRoot!.querySelector('p')!.textContent).to.match(new RegExp(`^\\s*${products.length} everyday objects`));
    expect(preloaded.some((h) => /\/catalog-/.test(h)), 'the first screen preloads no catalogue chunk').to.equal(false);
  });

  it('modules marked eager are evaluated while the page streams: the class is defined before the parser reaches its island, which keeps defer-hydration until it hydrates, once, by its strategy', async () => {
    // /eager: a hydrate="none" element whose server data takes 400 ms holds the stream; a script
    // right after the load island's end tag records whether its class was defined by then, and
    // whether the island had hydrated (the loader's microtasks run before a parser-inserted script).
    const page = await loadPage('/atoll/islands/eager');
    const eager = [...page.doc.querySelectorAll('link[rel=modulepreload][data-atoll-eager]')].map((l) => new URL(l.getAttribute('href')!, page.doc.baseURI).pathname);
    // i-client is client-only, i-inner also has a client-only element on the page: preloaded, not eager.
    expect(eager).to.deep.equal([moduleOf(page.doc, 'i-load')]);
    expect((page.win as unknown as { __eager: unknown }).__eager, 'i-load defined before it was parsed, hydrated as soon as it closed').to.deep.equal({ defined: true, hydrated: true });
    for (const id of ['l', 'client', 'inner']) expect((await event(page, id)).detail.strategy).to.equal('load');
    await frames(page.win, 5);
    const updated = page.win.__islands!.updated;
    for (const probe of ['i-load#l', 'i-client#client', 'i-inner#inner']) expect(updated.filter((u) => u === probe), probe).to.have.length(1);
    // Hydrated over the server's shadow root, not rendered a second time into it.
    expect(page.doc.getElementById('l')!.shadowRoot!.querySelectorAll('p.probe')).to.have.length(1);
    expect(page.doc.getElementById('slow')!.hasAttribute('defer-hydration'), 'hydrate="none" stays server HTML').to.equal(true);
    expect(page.win.__atollEvents.filter((e) => e.type === 'atoll:hydration-error')).to.deep.equal([]);
  });

  it("the demo's product cards skip rendering while off screen (content-visibility: auto)", async () => {
    const page = await loadPage('/atoll/demo/home', { width: 412, height: 600 });
    const list = page.doc.querySelector('shop-product-list')!;
    const items = [...list.shadowRoot!.querySelectorAll('.grid > li')];
    expect(items.length).to.be.greaterThan(10);
    const style = getComputedStyle(items.at(-1)!);
    expect(style.getPropertyValue('content-visibility')).to.equal('auto');
    expect(style.getPropertyValue('contain-intrinsic-height')).to.match(/^auto \d+px$/);
  });
});
