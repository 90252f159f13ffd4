/// <reference types="mocha" />
/**
 * In real Chromium: pages served by Atoll arrive with real shadow roots,
 * attached by the HTML parser from declarative shadow DOM, with their content
 * and styles — before (and without) any script.
 */
import { expect } from '@esm-bundle/chai';

/** Loads an Atoll page in a same-origin iframe and returns its window. */
async function loadPage(path: string): Promise<Window> {
  const iframe = document.createElement('iframe');
  iframe.style.width = '1200px';
  iframe.style.height = '900px';
  const loaded = new Promise<void>((resolve, reject) => {
    iframe.onload = () => resolve();
    iframe.onerror = () => reject(new Error(`could not load ${path}`));
  });
  iframe.src = path;
  document.body.append(iframe);
  await loaded;
  return iframe.contentWindow!;
}

describe('declarative shadow DOM in the browser', () => {
  it('every microfrontend has a parser-created shadow root with its content, and no script ran', async () => {
    const win = await loadPage('/atoll/basic/box');
    const doc = win.document;
    expect(doc.scripts.length, 'the page has no scripts').to.equal(0);
    for (const tag of ['x-greeting', 'x-box', 'x-item']) {
      expect(win.customElements.get(tag), `${tag} is not defined by any script`).to.equal(undefined);
      for (const el of doc.querySelectorAll(tag)) {
        expect(el.shadowRoot, `${tag} has a shadow root`).to.not.equal(null);
        expect(el.querySelector(':scope > template'), 'the template was consumed by the parser').to.equal(null);
      }
    }
    const box = doc.querySelector('x-box')!;
    const inner = box.shadowRoot!.querySelector('x-item')!;
    expect(inner.shadowRoot!.querySelector('.item')!.textContent).to.equal('item inside');
    // Slotted light DOM is assigned to the shadow root's slot.
    const slot = box.shadowRoot!.querySelector('slot')!;
    expect(slot.assignedElements().map((e) => e.localName)).to.deep.equal(['span', 'x-item']);
  });

  it('shadow styles apply before any script', async () => {
    const win = await loadPage('/atoll/basic/hello/ada');
    const p = win.document.querySelector('main x-greeting')!.shadowRoot!.querySelector('p')!;
    expect(p.textContent).to.equal('Hello, ada!');
    expect(win.getComputedStyle(p).color).to.equal('rgb(102, 51, 153)');
  });

  it('the demo home page paints its product cards from DSD', async () => {
    const win = await loadPage('/atoll/demo/home');
    const list = win.document.querySelector('shop-product-list')!;
    expect(list.shadowRoot).to.not.equal(null);
    const cards = list.shadowRoot!.querySelectorAll('shop-product-card');
    expect(cards.length).to.be.greaterThanOrEqual(50);
    for (const card of cards) expect(card.shadowRoot, 'each card has its own shadow root').to.not.equal(null);
    const rect = cards[0]!.getBoundingClientRect();
    expect(rect.width).to.be.greaterThan(50);
    expect(rect.height).to.be.greaterThan(50);
  });
});
