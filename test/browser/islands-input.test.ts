/// <reference types="mocha" />
/**
 * No input is lost before hydration (SPEC 5, issue 10 item 4), for every
 * strategy, on the fixture site `test/fixtures/islands`: `<i-shop>` (the
 * demo's product card in small) gets "3" typed into its quantity field —
 * a Lit property binding, `.value=${this.qty}`, that hydration rewrites — and
 * a click on "Add to cart" from an inline script right after its end tag,
 * before its module can have loaded. After hydration the click has run its
 * handler exactly once, with the typed quantity, and the field still says
 * "3". In Chromium and Firefox ESR.
 */
import { expect } from '@esm-bundle/chai';
import { event, frames, loadPage, until, type FixtureWindow, type Page } from './islands-helpers.ts';

const site = '/atoll/islands';

type ShopWindow = FixtureWindow & {
  __shop?: { added: string[] };
  __earlyState?: { deferred: boolean; defined: boolean };
  __pageClicks: string[];
};
type Shop = HTMLElement & { qty: string; updateComplete: Promise<boolean> };

const shop = (page: Page, id = 's'): Shop => page.doc.getElementById(id) as Shop;

describe('island loader: input before hydration', function () {
  this.timeout(20_000);

  for (const strategy of ['load', 'visible', 'idle', 'media', 'interaction']) {
    it(`hydrate="${strategy}": a click runs its handler once after hydration, and typed text is kept and seen`, async () => {
      const page = await loadPage(`${site}/input/${strategy}`);
      const win = page.win as ShopWindow;
      expect(win.__earlyState, 'the input came before hydration').to.deep.equal({ deferred: true, defined: false });
      const el = shop(page);
      const hydrated = await event(page, 's');
      expect(hydrated.detail.strategy).to.equal(strategy);
      await until(win, 'the replayed click', () => win.__shop?.added.length);
      await el.updateComplete;
      await frames(win, 3);
      expect(win.__shop!.added, 'exactly once, with the typed quantity').to.deep.equal(['3']);
      expect(el.shadowRoot!.querySelector('input')!.value, 'the typed text survives hydration').to.equal('3');
      expect(el.qty, 'and the component saw it').to.equal('3');
      expect(win.__pageClicks, 'the page saw the click once, after hydration').to.deep.equal(['button']);
    });
  }

  it('a link clicked before hydration is followed once, after it', async () => {
    const page = await loadPage(`${site}/input/later`);
    const win = page.win as ShopWindow;
    let hashes = 0;
    win.addEventListener('hashchange', () => hashes++);
    const el = shop(page);
    el.shadowRoot!.querySelector('a')!.click();
    expect(win.location.hash, 'not before hydration').to.equal('');
    await event(page, 's');
    await until(win, 'the navigation', () => win.location.hash === '#details');
    await frames(win, 3);
    expect(hashes).to.equal(1);
    expect(win.__pageClicks).to.deep.equal(['a']);
  });

  it('a media island whose query does not match is plain HTML: its link works at once and it does not hydrate', async () => {
    const page = await loadPage(`${site}/input/later`);
    const win = page.win as ShopWindow;
    const el = shop(page, 'm');
    el.shadowRoot!.querySelector('a')!.click();
    await until(win, 'the navigation', () => win.location.hash === '#details');
    await frames(win, 3);
    expect(el.hasAttribute('defer-hydration')).to.equal(true);
    expect(win.__atollEvents.filter((e) => e.id === 'm')).to.deep.equal([]);
  });

  it('focus and key events inside a pending island are held and replayed once on their original target', async () => {
    const page = await loadPage(`${site}/input/later`);
    const win = page.win as ShopWindow;
    const el = shop(page);
    const input = el.shadowRoot!.querySelector('input')!;
    const seen: string[] = [];
    for (const type of ['focusin', 'keydown', 'keyup']) input.addEventListener(type, (e) => seen.push(`${e.type}:${(e as KeyboardEvent).key ?? ''}`));
    input.dispatchEvent(new win.FocusEvent('focusin', { bubbles: true, composed: true }));
    input.dispatchEvent(new win.KeyboardEvent('keydown', { key: 'x', bubbles: true, composed: true }));
    input.dispatchEvent(new win.KeyboardEvent('keyup', { key: 'x', bubbles: true, composed: true }));
    expect(seen, 'nothing reaches listeners before hydration').to.deep.equal([]);
    await event(page, 's');
    await frames(win, 2);
    expect(seen).to.deep.equal(['focusin:', 'keydown:x', 'keyup:x']);
  });
});
