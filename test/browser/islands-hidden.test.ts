/// <reference types="mocha" />
/**
 * Islands an IntersectionObserver alone would never wake, and islands that
 * arrive after the page: on the fixture site `test/fixtures/islands`, in
 * Chromium and Firefox ESR.
 *
 * - `hydrate="visible"` islands with no box — inside `hidden` or
 *   `display: none`, in a closed <details>, `hidden` themselves, a
 *   `display: contents` host with nothing rendered — hydrate at idle, so a
 *   method of their class (a closed dialog's `show()`) becomes callable; a
 *   visible island below the fold still waits until it is scrolled to.
 * - An island added after the page was parsed hydrates when its tag is in
 *   the page's import map, and fires `atoll:hydration-error` with the reason
 *   when it is not; one in the server's HTML with no client module (a
 *   render-only element) is left alone.
 */
import { expect } from '@esm-bundle/chai';
import { event, frames, loadPage, moduleOf, requested, sameNodes, shadowNodes, until, type Page } from './islands-helpers.ts';

const site = '/atoll/islands';

/** The element with `id` on the page. */
const byId = (page: Page, id: string): HTMLElement & { show?: () => string } => {
  const el = page.doc.getElementById(id);
  if (el === null) throw new Error(`no #${id} on the page`);
  return el;
};

/** The islands of `/hidden` that have no box. */
const HIDDEN = ['in-hidden', 'in-display-none', 'in-details', 'self-hidden', 'contents-in-hidden', 'hollow'];

describe('island loader: islands without a box, islands added later', function () {
  this.timeout(20_000);

  describe('hydrate="visible" on an island with no box', () => {
    it('hydrates it at idle, reusing its server nodes, so its methods become callable', async () => {
      const page = await loadPage(`${site}/hidden`);
      const panel = byId(page, 'in-hidden');
      expect(panel.getBoundingClientRect().height, 'the fixture hides it').to.equal(0);
      expect(panel.show, 'no method before hydration').to.equal(undefined);
      const before = shadowNodes(panel);

      // Bounded: the load event, then requestIdleCallback (timeout 2 s) or 200 ms.
      for (const id of HIDDEN) {
        const hydrated = await event(page, id);
        expect(hydrated.detail.strategy, id).to.equal('visible');
        expect(byId(page, id).hasAttribute('defer-hydration'), id).to.equal(false);
      }
      const nav = page.win.performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      for (const e of page.win.__atollEvents.filter((e) => HIDDEN.includes(e.id))) {
        expect(e.detail.start!, `${e.id} waited for the load event`).to.be.at.least(nav.loadEventStart);
      }
      for (const id of ['in-hidden', 'in-display-none', 'in-details', 'self-hidden']) {
        expect(byId(page, id).show!(), id).to.equal(`${id} shown`);
      }
      expect(sameNodes(before, shadowNodes(panel)), 'the shadow root holds the same node objects').to.equal(true);
      expect(panel.shadowRoot!.querySelectorAll('p.probe').length, 'rendered once').to.equal(1);
      expect(page.win.__atollEvents.filter((e) => e.type === 'atoll:hydration-error')).to.deep.equal([]);
    });

    it('hydrates it when it gets a box in the viewport, if that comes before idle', async () => {
      const page = await loadPage(`${site}/late`);
      await frames(page.win, 3);
      // Idle never comes now: only a box can wake the island.
      page.win.requestIdleCallback = () => 0;
      const box = byId(page, 'slot');
      box.hidden = true;
      box.innerHTML = '<i-visible id="revealed"></i-visible>';
      await frames(page.win, 5);
      expect(requested(page.win)).to.not.include(moduleOf(page.doc, 'i-visible'));

      box.hidden = false;
      const hydrated = await event(page, 'revealed');
      expect(hydrated.detail.strategy).to.equal('visible');
      expect(requested(page.win)).to.include(moduleOf(page.doc, 'i-visible'));
    });

    it('still waits for a visible island below the fold until it is scrolled into view', async () => {
      const page = await loadPage(`${site}/hidden`);
      for (const id of HIDDEN) await event(page, id);
      // Well past idle for the page: the hidden islands have hydrated.
      await frames(page.win, 10);
      const below = byId(page, 'below');
      expect(requested(page.win), 'no module request before scrolling').to.not.include(moduleOf(page.doc, 'i-visible'));
      expect(below.hasAttribute('defer-hydration')).to.equal(true);
      expect(page.win.__atollEvents.map((e) => e.id)).to.not.include('below');

      below.scrollIntoView();
      await event(page, 'below');
      expect(requested(page.win)).to.include(moduleOf(page.doc, 'i-visible'));
    });
  });

  describe('islands added after the page was parsed', () => {
    it('hydrate when their tag is in the page’s import map, loading its module then', async () => {
      const page = await loadPage(`${site}/late`);
      const module = moduleOf(page.doc, 'i-visible');
      await frames(page.win, 3);
      expect(requested(page.win), 'the island on the page is below the fold').to.not.include(module);

      // By innerHTML, and by a script creating the element (as another element's render would).
      byId(page, 'slot').innerHTML = '<i-visible id="by-html" hydrate="load" label="from innerHTML"></i-visible>';
      const made = page.doc.createElement('i-visible');
      made.id = 'by-script';
      byId(page, 'slot').append(made);

      const hydrated = await event(page, 'by-html');
      expect(hydrated.detail.strategy).to.equal('load');
      await event(page, 'by-script');
      expect(requested(page.win)).to.include(module);
      expect(byId(page, 'by-html').shadowRoot!.querySelector('p.probe')!.textContent).to.equal('i-visible: from innerHTML');
      expect(byId(page, 'by-script').shadowRoot!.querySelector('p.probe')!.textContent).to.equal('i-visible: default');
      expect(page.win.__atollEvents.filter((e) => e.type === 'atoll:hydration-error')).to.deep.equal([]);
    });

    it('fire a cancelable atoll:hydration-error with the reason when their tag is not in the import map', async () => {
      const page = await loadPage(`${site}/late`);
      await frames(page.win, 3);
      const logged: unknown[] = [];
      page.win.console.error = (...args: unknown[]) => void logged.push(args[0]);
      page.doc.addEventListener('atoll:hydration-error', (e) => {
        if ((e.target as Element).id === 'quiet') e.preventDefault();
      });

      // A registered element that this page does not use, server-rendered markup of an unknown
      // element, and one whose error a listener handles.
      byId(page, 'slot').innerHTML =
        '<i-idle id="not-on-page" hydrate="idle"></i-idle>' +
        '<x-other id="unknown" defer-hydration><p>server markup</p></x-other>' +
        '<x-other id="quiet" hydrate="load"></x-other>' +
        '<x-other id="static-copy" hydrate="none"></x-other>';

      const error = await event(page, 'not-on-page', 'atoll:hydration-error');
      expect(error.detail.strategy).to.equal('idle');
      expect(String(error.detail.error)).to.contain("no client module for <i-idle> in this page's import map");
      const unknown = await event(page, 'unknown', 'atoll:hydration-error');
      expect(unknown.detail.strategy).to.equal('visible');
      expect(String(unknown.detail.error)).to.contain('no client module for <x-other>');
      await event(page, 'quiet', 'atoll:hydration-error');
      await until(page.win, 'the uncancelled errors to be logged', () => logged.length >= 2);
      await frames(page.win, 3);
      expect(logged.map(String).sort()).to.deep.equal([
        "Error: no client module for <i-idle> in this page's import map",
        "Error: no client module for <x-other> in this page's import map",
      ]);
      expect(page.win.__atollEvents.map((e) => e.id), 'hydrate="none" is never an error').to.not.include('static-copy');
      expect(requested(page.win).some((p) => p.includes('i-idle')), 'nothing was requested for it').to.equal(false);
    });

    it('are told apart from islands in the server’s HTML: a render-only element there is not an error', async () => {
      const page = await loadPage(`${site}/late`);
      await frames(page.win, 5);
      expect(byId(page, 'render-only').hasAttribute('defer-hydration')).to.equal(true);
      expect(page.win.__atollEvents).to.deep.equal([]);
    });
  });
});
