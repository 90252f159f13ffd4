/// <reference types="mocha" />
/**
 * Rendering fidelity in the browser (issue 11, items 2a and 2b), on real
 * Atoll pages of the fixture site test/fixtures/fidelity:
 * - a `@lit/context` consumer nested in a provider in the layout renders
 *   the provided value on the server and keeps it through hydration;
 * - `data()` values that JSON lost (undefined, Date, Map, Set, BigInt, one
 *   object referenced twice, a cycle) reach the hydrated element as equal
 *   values of the page's own types;
 * - a function or a template result in `data()` leaves the element's
 *   fallback on the page, and the browser renders the element itself.
 */
import { expect } from '@esm-bundle/chai';
import { event, loadPage, shadowNodes, sameNodes, until, type Page } from './islands-helpers.ts';

const site = '/atoll/fidelity';

type Host = HTMLElement & Record<string, unknown>;

const byId = (page: Page, id: string): Host => {
  const el = page.doc.getElementById(id);
  if (el === null) throw new Error(`no #${id} on the page`);
  return el as Host;
};

/** Errors the page reported: hydration errors and console errors. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  const original = page.win.console.error.bind(page.win.console);
  page.win.console.error = (...args: unknown[]) => {
    errors.push(args.map(String).join(' '));
    original(...args);
  };
  return errors;
}

describe('rendering fidelity', function () {
  this.timeout(20_000);

  it('a context consumer nested in a provider keeps the provided value through hydration (default and named slot)', async () => {
    const page = await loadPage(`${site}/hydrate`);
    const errors = watchErrors(page);
    const direct = byId(page, 'c');
    const side = byId(page, 's');
    // Server-rendered with the provider's value.
    expect(direct.shadowRoot!.querySelector('p.theme')!.textContent).to.equal('ocean');
    expect(side.shadowRoot!.querySelector('p.theme')!.textContent).to.equal('ocean');
    const before = [shadowNodes(direct), shadowNodes(side)];
    await Promise.all([event(page, 'p'), event(page, 'c'), event(page, 's')]);
    const failed = page.win.__atollEvents.filter((e) => e.type === 'atoll:hydration-error');
    expect(failed, 'no hydration error').to.deep.equal([]);
    for (const el of [direct, side]) {
      await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
      expect(el.theme, `#${el.id}'s property after hydration`).to.equal('ocean');
      expect(el.shadowRoot!.querySelector('p.theme')!.textContent, `#${el.id}'s text after hydration`).to.equal('ocean');
    }
    expect(sameNodes(before[0]!, shadowNodes(direct)), 'the server nodes are kept').to.equal(true);
    expect(sameNodes(before[1]!, shadowNodes(side)), 'the server nodes are kept').to.equal(true);
    expect(errors).to.deep.equal([]);
  });

  it('data() values JSON could not carry reach the hydrated element equal, as the page\'s own types', async () => {
    const page = await loadPage(`${site}/data`);
    const errors = watchErrors(page);
    const el = byId(page, 'd');
    const text = (cls: string): string => el.shadowRoot!.querySelector(`.${cls}`)!.textContent!;
    expect(text('same')).to.equal('same object');
    const before = shadowNodes(el);
    await event(page, 'd');
    const win = page.win as unknown as typeof globalThis;
    expect(el.gone, 'undefined stays undefined (JSON dropped the key: the client default stayed)').to.equal(undefined);
    expect(el.when).to.be.instanceOf(win.Date);
    expect((el.when as Date).toISOString()).to.equal('2026-01-02T03:04:05.006Z');
    expect(el.tags).to.be.instanceOf(win.Map);
    expect([...(el.tags as Map<string, number>)]).to.deep.equal([['a', 1], ['b', 2]]);
    expect(el.seen).to.be.instanceOf(win.Set);
    expect([...(el.seen as Set<string>)]).to.deep.equal(['x', 'y']);
    expect(typeof el.big).to.equal('bigint');
    expect(el.big === 2n ** 70n).to.equal(true);
    expect(el.first, 'one object referenced twice is one object').to.equal(el.second);
    expect((el.first as { n: number }).n).to.equal(7);
    const loop = el.loop as { self: unknown };
    expect(loop.self, 'a cycle survives').to.equal(loop);
    expect(el.querySelector('script[data-atoll-props]'), 'the props script is consumed').to.equal(null);
    await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
    expect(text('gone')).to.equal('undefined');
    expect(text('tags')).to.equal('a=1,b=2');
    expect(text('big')).to.equal(String(2n ** 70n));
    expect(text('same')).to.equal('same object');
    expect(text('loop')).to.equal('loops');
    expect(sameNodes(before, shadowNodes(el)), 'hydration kept every server node').to.equal(true);
    expect(errors).to.deep.equal([]);
  });

  for (const [path, id, tag] of [
    ['/data-fn', 'fn', 'f-fn'],
    ['/data-tpl', 'tpl', 'f-tpl'],
  ] as const) {
    it(`<${tag}>: data() that cannot cross leaves the fallback on the page; the browser renders the element`, async () => {
      const page = await loadPage(`${site}${path}`);
      const el = byId(page, id);
      expect(el.getAttribute('atoll-fallback')).to.equal('data');
      expect(el.querySelector('script[data-atoll-props]'), 'nothing was serialized').to.equal(null);
      expect(el.querySelector('p.fallback')!.textContent).to.match(/fallback/);
      await until(page.win, `<${tag}> rendered by the browser`, () => el.shadowRoot?.querySelector('p.client'));
      expect(el.shadowRoot!.querySelector('p.client')!.textContent).to.contain(tag);
    });
  }
});
