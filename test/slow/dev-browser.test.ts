/**
 * `atoll dev` with Chromium connected (puppeteer, engines.ts's flags), on a
 * temporary copy of the dev fixture site: an element edit shows in the open
 * page without a manual reload, and the element hydrates with the new
 * client code; a syntax error puts the overlay over the page with
 * file:line:col; the fix takes it away and shows the fixed element; an element
 * that throws while rendering shows its fallback and the overlay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { DevServer } from '../../ssr-server/dev/server.ts';
import { silentLogger } from '../../ssr-server/log.ts';
import { CARD, makeDevSite } from './dev-fixture.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './engines.ts';

/** The d-card's text as the page shows it. */
const cardText = (page: Page): Promise<string> =>
  page.evaluate(() => document.querySelector('d-card')?.shadowRoot?.textContent?.replace(/\s+/g, ' ').trim() ?? '');

/** Waits in Node (polling the page) so that a reload in between does not break the wait. */
async function until(page: Page, what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // The page is navigating (the reload): try again.
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('atoll dev in Chromium', { timeout: 120_000 }, () => {
  const site = makeDevSite();
  let dev: DevServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    dev = new DevServer({ root: site.root, logger: silentLogger, debounceMs: 20 });
    const url = await dev.start();
    browser = await puppeteer.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String((e as Error).message ?? e)));
    await page.goto(url + '/', { waitUntil: 'load' });
  });

  after(async () => {
    await browser?.close();
    await dev?.close();
    site.remove();
  });

  it('an element edit shows in the open page, hydrated with the new client code, without a manual reload', async () => {
    assert.match(await cardText(page), /card one HI!/);
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    site.write('elements/d-card.ts', CARD('two'));
    await until(page, 'card two', async () => /card two HI!/.test(await cardText(page)));
    assert.ok(navigations.length >= 1, 'the dev client reloaded the page');
    // The new client module is the one the page runs: the class source has the new template.
    await until(page, 'the new client class', () =>
      page.evaluate(() => {
        const el = document.querySelector('d-card') as (HTMLElement & { hasUpdated?: boolean }) | null;
        return String(customElements.get('d-card') ?? '').includes('card two') && el?.hasUpdated === true && !el.hasAttribute('defer-hydration');
      }),
    );
    assert.deepEqual(pageErrors, []);
  });

  it('a syntax error shows the overlay with file:line:col; the fix takes it away and shows the fix', async () => {
    site.write('elements/d-card.ts', CARD('three').replace('override render() {', 'override render() { const = ;'));
    await until(page, 'the overlay', () =>
      page.evaluate(() => /elements\/d-card\.ts:11:\d+/.test(document.querySelector('atoll-dev-overlay')?.shadowRoot?.textContent ?? '')),
    );
    const overlay = await page.evaluate(() => {
      const root = document.querySelector('atoll-dev-overlay')!.shadowRoot!;
      const box = root.querySelector('.atoll-dev-overlay')!;
      const r = box.getBoundingClientRect();
      return { text: root.textContent ?? '', visible: r.width > 0 && r.height > 0 && getComputedStyle(box).position === 'fixed', frame: root.querySelector('pre')?.textContent ?? '' };
    });
    assert.ok(overlay.visible, 'the overlay covers the page');
    assert.match(overlay.frame, /> 11 \|.*const = ;/);
    // The last good generation still renders underneath.
    assert.match(await cardText(page), /card two HI!/);

    site.write('elements/d-card.ts', CARD('three'));
    await until(page, 'the fix', async () => /card three HI!/.test(await cardText(page)));
    assert.equal(await page.evaluate(() => document.querySelector('atoll-dev-overlay') === null), true, 'no overlay after the fix');
    assert.deepEqual(pageErrors, []);
  });

  it('an element that throws while rendering: its fallback, and the overlay with the throw\'s file:line:col', async () => {
    site.write('elements/d-card.ts', CARD('four').replace('return html`', "if (this.label === 'hi') throw new Error('render broke');\n    return html`"));
    await until(page, 'the render overlay', () =>
      page.evaluate(() => /render broke/.test(document.querySelector('atoll-dev-overlay')?.shadowRoot?.textContent ?? '')),
    );
    const text = await page.evaluate(() => document.querySelector('atoll-dev-overlay')!.shadowRoot!.textContent ?? '');
    assert.match(text, /elements\/d-card\.ts:12:\d+/);
    assert.equal(await page.evaluate(() => document.querySelector('d-card')?.getAttribute('atoll-fallback')), 'render');
    site.write('elements/d-card.ts', CARD('five'));
    await until(page, 'the fix', async () => /card five HI!/.test(await cardText(page)));
    assert.equal(await page.evaluate(() => document.querySelector('atoll-dev-overlay') === null), true);
  });
});
