/// <reference types="mocha" />
/**
 * The testing kit's browser helpers (atoll/testing/browser) against the
 * kit's fixture site (test/fixtures/testing, plugin name "kit"): fixtures
 * are real server output, hydration runs the real loader and client build,
 * and the mismatch helper catches what it promises to catch.
 */
import { expect } from '@esm-bundle/chai';
import { html } from 'lit';
import {
  csrFixture,
  expectNoHydrationMismatch,
  hydrate,
  hydrated,
  shadowMarkup,
  shadowNodes,
  ssrFixture,
  templateToHtml,
} from '../../testing/browser.ts';

const site = 'kit';

type Card = HTMLElement & { count: number; items: string[]; name: string };

/** Rejection of `p`, or a failure if it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('testing kit: ssrFixture', function () {
  this.timeout(20_000);

  it('server-renders a template into a real declarative shadow root, not hydrated by default', async () => {
    const el = await ssrFixture<Card>(html`<t-card name=${'Ada & <Bob>'}></t-card>`, { site });
    expect(el.localName).to.equal('t-card');
    expect(el.hasAttribute('defer-hydration')).to.equal(true);
    expect(el.shadowRoot!.querySelector('h2')!.textContent).to.equal('Hello, Ada & <Bob>');
    // Nested shadow roots come from the server too.
    expect(el.shadowRoot!.querySelector('t-badge')!.shadowRoot!.querySelector('.pill')!.textContent).to.equal('0 items');
    const win = el.ownerDocument.defaultView!;
    expect(win.customElements.get('t-card'), 'no element JavaScript ran').to.equal(undefined);
    expect(win.document.querySelector('script[type=importmap][data-atoll]'), 'the page has the real head').to.not.equal(null);
  });

  it('renders one element with attributes and data, and hydration keeps the data', async () => {
    const el = await ssrFixture<Card>({ tag: 't-card', attributes: { name: 'Grace' }, data: { items: ['a', 'b'] } }, { site, hydrate: 'load' });
    expect(el.hasAttribute('defer-hydration')).to.equal(false);
    expect(el.getAttribute('hydrate')).to.equal('load');
    expect(el.items).to.deep.equal(['a', 'b']);
    expect([...el.shadowRoot!.querySelectorAll('li')].map((li) => li.textContent)).to.deep.equal(['a', 'b']);
  });

  it('renders a route of the site with its layout', async () => {
    const el = await ssrFixture<Card>({ route: '/card/Linus', select: 't-card' }, { site, hydrate: true });
    expect(el.shadowRoot!.querySelector('h2')!.textContent).to.equal('Hello, Linus');
    expect(el.ownerDocument.title).to.equal('Testing kit fixture');
    expect(el.name, 'hydrated by the layout\'s hydrate="load"').to.equal('Linus');
  });

  it('fails with the server\'s message when the markup names no element of the site', async () => {
    const err = await rejection(ssrFixture(html`<t-nope></t-nope>`, { site }));
    expect(err.message).to.match(/<t-nope> is not in the element registry/);
  });

  it('turns templates into server markup, refusing bindings that cannot cross', () => {
    expect(templateToHtml(html`<t-card name="${'a"b'}" ?hidden=${true} ?inert=${false}>${'<i>'}${[html`<b>${1}</b>`]}</t-card>`)).to.equal(
      '<t-card name="a&quot;b" hidden >&lt;i&gt;<b>1</b></t-card>',
    );
    expect(() => templateToHtml(html`<t-card .items=${[]}></t-card>`)).to.throw(/data/);
  });
});

describe('testing kit: hydration helpers', function () {
  this.timeout(20_000);

  it('hydrate() runs the real loader: the counter works and dispatches its event', async () => {
    const el = await ssrFixture<Card>(html`<t-card name="Ada"></t-card>`, { site });
    const before = shadowNodes(el);
    await hydrate(el);
    expect(shadowNodes(el)).to.have.ordered.members(before);
    const events: number[] = [];
    el.ownerDocument.addEventListener('t-count', (e) => events.push((e as CustomEvent<{ count: number }>).detail.count));
    el.shadowRoot!.querySelector('button')!.click();
    el.shadowRoot!.querySelector('button')!.click();
    await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
    expect(events).to.deep.equal([1, 2]);
    expect(el.shadowRoot!.querySelector('button')!.textContent).to.equal('Clicked 2');
  });

  it('hydrated() settles for an island that hydrated before it was called', async () => {
    const el = await ssrFixture(html`<t-card></t-card>`, { site, hydrate: 'load', waitForHydration: false });
    await hydrated(el);
    await hydrated(el);
    expect(el.hasAttribute('defer-hydration')).to.equal(false);
  });

  it('hydrated() rejects for an element whose module fails to load', async () => {
    const el = await ssrFixture(html`<t-broken></t-broken>`, { site, hydrate: 'load', waitForHydration: false });
    const err = await rejection(hydrated(el));
    expect(err.message).to.match(/<t-broken> failed to hydrate: .*t-broken cannot load in a browser/);
    expect(el.shadowRoot!.querySelector('p')!.textContent, 'the server content stays').to.equal('server only');
  });

  it('expectNoHydrationMismatch passes for a correct element, nested shadow roots included', async () => {
    const el = await ssrFixture(html`<t-card name="Ada"></t-card>`, { site, data: { items: ['x', 'y'] } });
    await expectNoHydrationMismatch(el);
    expect(el.hasAttribute('defer-hydration')).to.equal(false);
  });

  it('expectNoHydrationMismatch catches a template mismatch (Lit throws while hydrating)', async () => {
    const el = await ssrFixture(html`<t-mismatch></t-mismatch>`, { site });
    const err = await rejection(expectNoHydrationMismatch(el));
    expect(err.message).to.match(/<t-mismatch> failed to hydrate: .*[Hh]ydration/);
  });

  it('expectNoHydrationMismatch catches a value that differs between server and browser (Lit keeps it silently)', async () => {
    const el = await ssrFixture(html`<t-drift></t-drift>`, { site });
    const err = await rejection(expectNoHydrationMismatch(el));
    expect(err.message).to.match(/hydration mismatch in <t-drift>/);
    expect(err.message).to.match(/on the server/);
    expect(err.message).to.match(/in the browser/);
  });

  it('expectNoHydrationMismatch catches a text binding hydrated empty, whose next value Lit would hide (lit/lit#4937)', async () => {
    const el = await ssrFixture(html`<t-empty></t-empty>`, { site });
    const err = await rejection(expectNoHydrationMismatch(el));
    expect(err.message).to.match(/text binding\(s\) in <output> hydrated empty/);
    // The hazard is real: the next value never shows.
    el.shadowRoot!.querySelector('button')!.click();
    await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
    expect(el.shadowRoot!.querySelector('output')!.textContent).to.equal('');
  });

  it('expectNoHydrationMismatch catches replaced server nodes and logged errors', async () => {
    const el = await ssrFixture<Card>(html`<t-card></t-card>`, { site });
    const err = await rejection(
      expectNoHydrationMismatch(el, async () => {
        // What a second copy of Lit without hydration support would do: render anew.
        el.shadowRoot!.replaceChildren(...[...el.shadowRoot!.childNodes].map((n) => n.cloneNode(true)));
        el.ownerDocument.defaultView!.console.error('Lit mismatch warning');
        await hydrate(el);
      }, { compareWithClientRender: false }),
    );
    expect(err.message).to.match(/server node\(s\) replaced/);
    expect(err.message).to.match(/error: Lit mismatch warning/);
  });

  it('expectNoHydrationMismatch refuses an element that is not waiting to hydrate', async () => {
    const el = await ssrFixture(html`<t-card></t-card>`, { site, hydrate: 'load' });
    const err = await rejection(expectNoHydrationMismatch(el));
    expect(err.message).to.match(/hydrate: false/);
  });
});

describe('testing kit: csrFixture', () => {
  it('client-renders in the test page, with the same markup as the hydrated server rendering', async () => {
    await import('../fixtures/testing/elements/t-card.ts');
    const csr = await csrFixture<Card>(html`<t-card name="Ada"></t-card>`);
    expect(csr.ownerDocument).to.equal(document);
    const ssr = await ssrFixture(html`<t-card name="Ada"></t-card>`, { site, hydrate: 'load' });
    expect(shadowMarkup(ssr)).to.equal(shadowMarkup(csr));
  });
});
