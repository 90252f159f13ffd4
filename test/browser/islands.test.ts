/// <reference types="mocha" />
/**
 * The island loader in real Chromium, on real SSR output (the fixture site
 * `test/fixtures/islands`, built and served by the same engine as
 * `atoll serve`): each strategy loads an element's JavaScript only when it
 * fires, hydration reuses the server's nodes, and failures are reported.
 */
import { expect } from '@esm-bundle/chai';
import { sendMouse } from '@web/test-runner-commands';
import {
  event,
  frames,
  importMap,
  loadPage,
  moduleOf,
  requested,
  sameNodes,
  shadowNodes,
  until,
  type Page,
} from './islands-helpers.ts';

const site = '/atoll/islands';

/** The element with `id` (a microfrontend host) on the page. */
const byId = (page: Page, id: string): HTMLElement & { updateComplete?: Promise<boolean> } => {
  const el = page.doc.getElementById(id);
  if (el === null) throw new Error(`no #${id} on the page`);
  return el;
};

/** Gives the loader every chance to (wrongly) act: window load plus a few frames. */
const settle = (page: Page): Promise<void> => frames(page.win, 3);

describe('island loader', function () {
  this.timeout(20_000);

  describe('hydrate="visible" (the default)', () => {
    it('requests nothing before the element is scrolled into view, then hydrates it, reusing every server node', async () => {
      const page = await loadPage(`${site}/visible`);
      const el = byId(page, 'v');
      const module = moduleOf(page.doc, 'i-visible');
      await settle(page);
      expect(requested(page.win), 'no module request before scrolling').to.not.include(module);
      expect(page.win.customElements.get('i-visible')).to.equal(undefined);
      expect(el.hasAttribute('defer-hydration')).to.equal(true);
      const before = shadowNodes(el);

      el.scrollIntoView();
      const hydrated = await event(page, 'v');

      expect(requested(page.win)).to.include(module);
      expect(hydrated.detail.strategy).to.equal('visible');
      expect(hydrated.detail.duration).to.be.a('number');
      expect(el.hasAttribute('defer-hydration')).to.equal(false);
      expect(sameNodes(before, shadowNodes(el)), 'the shadow root holds the same node objects').to.equal(true);
      expect(el.shadowRoot!.querySelectorAll('p.probe').length, 'rendered once, not twice').to.equal(1);
      expect(page.win.__islands!.updated).to.deep.equal(['i-visible#v']);
    });

    it('observes what a display:contents host renders, since the host itself has no box', async () => {
      const page = await loadPage(`${site}/contents`);
      const el = byId(page, 'c');
      expect(page.win.getComputedStyle(el).display).to.equal('contents');
      await settle(page);
      expect(requested(page.win)).to.not.include(moduleOf(page.doc, 'i-contents'));

      el.shadowRoot!.querySelector('p')!.scrollIntoView();
      await event(page, 'c');
      expect(el.shadowRoot!.querySelectorAll('p.probe').length).to.equal(1);
    });
  });

  it('hydrate="load" is preloaded by <atoll-head> and hydrates at once', async () => {
    const page = await loadPage(`${site}/load`);
    const module = moduleOf(page.doc, 'i-load');
    const preloads = [...page.doc.head.querySelectorAll('link[rel=modulepreload]')].map((l) => new URL((l as HTMLLinkElement).href).pathname);
    expect(preloads).to.include(module);
    const hydrated = await event(page, 'l');
    expect(hydrated.detail.strategy).to.equal('load');
    expect(byId(page, 'l').hasAttribute('defer-hydration')).to.equal(false);
  });

  it('hydrate="idle" hydrates after the load event', async () => {
    const page = await loadPage(`${site}/idle`);
    const hydrated = await event(page, 'i');
    const nav = page.win.performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    expect(hydrated.detail.strategy).to.equal('idle');
    expect(nav.loadEventStart).to.be.greaterThan(0);
    expect(hydrated.detail.start!).to.be.at.least(nav.loadEventStart);
  });

  it('hydrate="media:(…)" waits until the query matches (the viewport narrows)', async () => {
    const page = await loadPage(`${site}/media`, { width: 1000 });
    const module = moduleOf(page.doc, 'i-media');
    await settle(page);
    expect(requested(page.win)).to.not.include(module);
    expect(byId(page, 'm').hasAttribute('defer-hydration')).to.equal(true);

    page.iframe.style.width = '500px';
    const hydrated = await event(page, 'm');
    expect(hydrated.detail.strategy).to.equal('media');
    expect(requested(page.win)).to.include(module);
  });

  it('page-wide conditions are computed once per page: one MediaQueryList per distinct query, one idle wait', async () => {
    const page = await loadPage(`${site}/page-wide`);
    for (const id of ['m1', 'm2', 'i1', 'i2', 'i3']) await event(page, id);
    const calls = (page.win as Window & { __calls?: { matchMedia: string[]; idle: number } }).__calls!;
    expect(calls.matchMedia).to.deep.equal(['(min-width: 1px)', '(max-width: 1px)']);
    // Without requestIdleCallback (WebKit) the idle wait is a timeout: 0 calls.
    expect(calls.idle).to.equal('requestIdleCallback' in page.win ? 1 : 0);
    expect(byId(page, 'm3').hasAttribute('defer-hydration')).to.equal(true);
  });

  it('hostile hydrate values on islands added later (__proto__, constructor, toString:x) get the default strategy and hold up no other island', async () => {
    const page = await loadPage(`${site}/late`);
    await frames(page.win, 3);
    byId(page, 'slot').innerHTML =
      '<i-visible id="h1" hydrate="__proto__"></i-visible><i-visible id="h2" hydrate="constructor"></i-visible>' +
      '<i-visible id="h3" hydrate="toString:x"></i-visible><i-visible id="h4"></i-visible>';
    for (const id of ['h1', 'h2', 'h3', 'h4']) await event(page, id);
    expect(page.win.__atollEvents.filter((e) => e.type === 'atoll:hydration-error')).to.deep.equal([]);
  });

  it('hydrate="none" requests no JavaScript at all and keeps the server content', async () => {
    const page = await loadPage(`${site}/none`);
    await settle(page);
    expect(importMap(page.doc), 'the element is not in the import map').to.not.have.property('@atoll/i-none');
    // (Only the client router, which every page served with navigation on imports at `load`: docs/navigation.md.)
    expect(requested(page.win).filter((p) => p.endsWith('.js') && !/\/router-[\w-]+\.js$/.test(p))).to.deep.equal([]);
    const el = byId(page, 'n');
    expect(page.win.customElements.get('i-none')).to.equal(undefined);
    expect(el.shadowRoot!.querySelector('p.probe')!.textContent).to.equal('i-none: default');
  });

  describe('hydrate="interaction"', () => {
    it('a click on the not-yet-hydrated button runs its handler exactly once, after hydration', async () => {
      const page = await loadPage(`${site}/interaction`);
      const el = byId(page, 'counter');
      await settle(page);
      expect(requested(page.win)).to.not.include(moduleOf(page.doc, 'i-counter'));
      const before = shadowNodes(el);
      const button = el.shadowRoot!.querySelector('button')!;
      expect(button.textContent).to.equal('clicked 0');

      button.click();
      expect(page.win.__islands, 'nothing ran during the click').to.equal(undefined);
      await event(page, 'counter');
      await until(page.win, 'the replayed click', () => page.win.__islands?.clicks === 1);
      await el.updateComplete;
      expect(button.textContent).to.equal('clicked 1');
      await frames(page.win);
      expect(page.win.__islands!.clicks, 'exactly once').to.equal(1);
      expect(sameNodes(before, shadowNodes(el))).to.equal(true);

      button.click();
      await el.updateComplete;
      expect(page.win.__islands!.clicks, 'later clicks go straight to the element').to.equal(2);
    });

    it('a real mouse click (pointerdown, then click) counts exactly once', async () => {
      const page = await loadPage(`${site}/interaction`, { height: 300 });
      const el = byId(page, 'counter');
      const button = el.shadowRoot!.querySelector('button')!;
      window.scrollTo(0, 0);
      const frame = page.iframe.getBoundingClientRect();
      const rect = button.getBoundingClientRect();
      await sendMouse({
        type: 'click',
        position: [Math.round(frame.left + rect.left + rect.width / 2), Math.round(frame.top + rect.top + rect.height / 2)],
      });
      await event(page, 'counter');
      await until(page.win, 'the click handler', () => page.win.__islands?.clicks === 1);
      await frames(page.win);
      expect(page.win.__islands!.clicks).to.equal(1);
      await el.updateComplete;
      expect(button.textContent).to.equal('clicked 1');
    });
  });

  it('nested islands wait for their host: the parent hydrates first, even when the child module is already loaded', async () => {
    const page = await loadPage(`${site}/nested`);
    await event(page, 'top');
    const outer = byId(page, 'outer');
    const nested = outer.shadowRoot!.querySelector('i-inner')!;
    await settle(page);
    expect(page.win.customElements.get('i-inner'), 'the child module is loaded').to.not.equal(undefined);
    expect(nested.hasAttribute('defer-hydration'), 'but the nested child still waits').to.equal(true);
    expect(page.win.__islands!.updated).to.deep.equal(['i-inner#top']);
    const nestedBefore = shadowNodes(nested);

    outer.click();
    await event(page, 'outer');
    await until(page.win, 'the nested child to hydrate', () => page.win.__islands!.updated.includes('i-inner#nested'));
    expect(page.win.__islands!.updated).to.deep.equal(['i-inner#top', 'i-outer#outer', 'i-inner#nested']);
    expect(sameNodes(nestedBefore, shadowNodes(nested))).to.equal(true);
  });

  it('client-only elements (ssr="none") are imported and rendered in the browser', async () => {
    const page = await loadPage(`${site}/client`);
    const el = byId(page, 'client');
    await event(page, 'client');
    expect(el.shadowRoot!.querySelector('p.probe')!.textContent).to.equal('i-client: default');
    expect(el.querySelector('b')!.textContent, 'light children stay').to.equal('light child');
  });

  it('an element that failed on the server (atoll-fallback) renders in the browser', async () => {
    const page = await loadPage(`${site}/fallback`);
    const el = byId(page, 'f');
    expect(el.getAttribute('atoll-fallback')).to.equal('data');
    await event(page, 'f');
    expect(el.shadowRoot!.querySelector('p.probe')!.textContent).to.equal('i-fails: default');
    expect(el.querySelector('p.fallback'), 'the fallback stays in the light DOM').to.not.equal(null);
  });

  it('a failing module fires a cancelable atoll:hydration-error, logged unless cancelled, and the server content stays', async () => {
    const page = await loadPage(`${site}/broken`);
    const logged: unknown[] = [];
    page.win.console.error = (...args: unknown[]) => void logged.push(args[0]);
    page.doc.addEventListener('atoll:hydration-error', (e) => {
      if ((e.target as Element).id === 'cancelled') e.preventDefault();
    });
    const cancelled = byId(page, 'cancelled');
    const before = shadowNodes(cancelled);

    cancelled.click();
    const first = await event(page, 'cancelled', 'atoll:hydration-error');
    expect(String(first.detail.error)).to.contain('i-broken cannot load in a browser');
    await frames(page.win);
    expect(logged, 'a cancelled error is not logged').to.deep.equal([]);
    expect(cancelled.hasAttribute('defer-hydration')).to.equal(true);
    expect(sameNodes(before, shadowNodes(cancelled)), 'the server content stays').to.equal(true);
    expect(cancelled.shadowRoot!.querySelector('p.probe')!.textContent).to.equal('i-broken: default');

    byId(page, 'logged').click();
    await event(page, 'logged', 'atoll:hydration-error');
    await until(page.win, 'the error to be logged', () => logged.length > 0);
    expect(String(logged[0])).to.contain('i-broken cannot load in a browser');
  });

  it('data from the server’s data() hook is the element’s state after hydration', async () => {
    const page = await loadPage(`${site}/data`);
    const el = byId(page, 'd') as HTMLElement & { label: string; items: string[]; updateComplete: Promise<boolean> };
    expect(el.querySelector('script[data-atoll-props]')).to.not.equal(null);
    const before = shadowNodes(el);

    el.click();
    await event(page, 'd');
    expect(el.label).to.equal('from the server </script><!--');
    expect(el.items).to.deep.equal(['alpha', 'beta', 'gamma']);
    expect(el.querySelector('script[data-atoll-props]'), 'the props script is consumed').to.equal(null);
    expect(sameNodes(before, shadowNodes(el))).to.equal(true);

    // The hydrated template is live: a change re-renders in place.
    el.items = [...el.items, 'delta'];
    await el.updateComplete;
    expect([...el.shadowRoot!.querySelectorAll('li')].map((li) => li.textContent)).to.deep.equal(['alpha', 'beta', 'gamma', 'delta']);
    expect(el.shadowRoot!.querySelector('.label')!.textContent).to.equal('from the server </script><!--');
  });
});
