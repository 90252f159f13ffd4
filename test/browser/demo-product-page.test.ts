/**
 * The demo's product page on a phone-sized viewport: the reviews below the
 * fold skip layout until they come near the viewport
 * (`content-visibility: auto` with a remembered intrinsic size) — a client
 * navigation to a product lays out the new page in the task that swaps it
 * in, and the reviews were most of that layout (docs/benchmarks.md,
 * "Client-side navigation") — and still render when scrolled to.
 */
import { expect } from '@esm-bundle/chai';
import { loadPage } from './islands-helpers.ts';

describe("demo: the product page's reviews", function () {
  this.timeout(20_000);

  it('skip rendering while off screen and render when scrolled to', async () => {
    const page = await loadPage('/atoll/demo/products/round-wall-mirror', { width: 412, height: 600 });
    const reviews = page.doc.querySelector('shop-reviews')!;
    const items = [...reviews.shadowRoot!.querySelectorAll('ol > li')] as HTMLElement[];
    expect(items.length).to.be.greaterThan(2);
    const last = items.at(-1)!;
    const style = page.win.getComputedStyle(last);
    expect(style.getPropertyValue('content-visibility')).to.equal('auto');
    expect(style.getPropertyValue('contain-intrinsic-height')).to.match(/^auto \d+px$/);
    last.scrollIntoView();
    await new Promise((r) => page.win.requestAnimationFrame(() => page.win.requestAnimationFrame(r)));
    expect(last.querySelector('article')!.getBoundingClientRect().height, 'laid out once in view').to.be.greaterThan(40);
    expect((last.textContent ?? '').trim().length).to.be.greaterThan(10);
  });
});
