/// <reference types="mocha" />
/**
 * Islands nested in another island's light DOM hydrate with it (SPEC 5,
 * issue 10 item 3), on the fixture site `test/fixtures/islands`: a parent
 * that reads its children on `slotchange` (`<i-tabs>`, like `md-tabs`) or on
 * its first update (`<i-select>`, like `md-outlined-select`) finds them
 * defined and updated, and the page after hydration equals the same markup
 * rendered by the client. In Chromium and Firefox ESR.
 */
import { expect } from '@esm-bundle/chai';
import { event, frames, loadPage, sameNodes, shadowNodes, type Page } from './islands-helpers.ts';

const site = '/atoll/islands';

type Tabs = HTMLElement & { activeTabIndex: number; updateComplete: Promise<boolean> };
type Tab = HTMLElement & { active: boolean; updateComplete: Promise<boolean> };
type Select = HTMLElement & { value: string; updateComplete: Promise<boolean> };

const byId = <T extends Element = HTMLElement>(page: Page, id: string): T => {
  const el = page.doc.getElementById(id);
  if (el === null) throw new Error(`no #${id} on the page`);
  return el as unknown as T;
};

/** The text `<i-select>` shows. */
const shown = (el: Element): string => el.shadowRoot!.querySelector('output')!.textContent!;

describe('island loader: light-DOM children hydrate with their parent', function () {
  this.timeout(20_000);

  it('tabs and a select find their children defined: the same state and order as client rendering', async () => {
    const page = await loadPage(`${site}/group`);
    const tabs = byId<Tabs>(page, 'tabs');
    const sel = byId<Select>(page, 'sel');
    const before = { tabs: shadowNodes(tabs), t1: shadowNodes(byId(page, 't1')), sel: shadowNodes(sel) };
    const events = [];
    for (const id of ['tabs', 't1', 't2', 'sel', 'o1', 'o2']) events.push(await event(page, id));
    // A child's own strategy (t2: interaction) does not apply in a group: it hydrates with its parent.
    expect(events.map((e) => e.detail.strategy)).to.deep.equal(['load', 'load', 'load', 'load', 'load', 'load']);
    await tabs.updateComplete;
    await sel.updateComplete;

    expect(tabs.activeTabIndex, 'md-tabs-like: a tab was found on slotchange and activated').to.equal(0);
    expect(byId<Tab>(page, 't1').active).to.equal(true);
    expect(sel.value, 'md-select-like: the preselected value is kept').to.equal('b');
    expect(shown(sel)).to.equal('Banana');
    expect(sameNodes(before.tabs, shadowNodes(tabs)), 'hydrated, not re-rendered').to.equal(true);
    expect(sameNodes(before.t1, shadowNodes(byId(page, 't1')))).to.equal(true);
    expect(sameNodes(before.sel, shadowNodes(sel))).to.equal(true);
    // The two groups hydrate independently; within each, parents first, in tree order.
    const hydratedOrder = page.win.__islands!.updated.slice();
    const tabsGroup = (list: string[]): string[] => list.filter((s) => s.startsWith('i-tab'));
    const selectGroup = (list: string[]): string[] => list.filter((s) => !s.startsWith('i-tab'));
    expect(tabsGroup(hydratedOrder)).to.deep.equal(['i-tabs#tabs', 'i-tab#t1', 'i-tab#t2']);
    expect(selectGroup(hydratedOrder)).to.deep.equal(['i-select#sel', 'i-option#o1', 'i-option#o2']);

    // The client-rendered reference: the same markup, definitions present.
    page.win.__islands!.updated.length = 0;
    const ref = byId(page, 'ref');
    ref.innerHTML =
      '<i-tabs id="rtabs"><i-tab id="r1">One</i-tab><i-tab id="r2">Two</i-tab></i-tabs>' +
      '<i-select id="rsel"><i-option id="ro1" value="a">Apple</i-option><i-option id="ro2" value="b" selected>Banana</i-option></i-select>';
    const rtabs = byId<Tabs>(page, 'rtabs');
    const rsel = byId<Select>(page, 'rsel');
    await rtabs.updateComplete;
    await rsel.updateComplete;
    await frames(page.win);
    expect(tabs.activeTabIndex).to.equal(rtabs.activeTabIndex);
    expect(['t1', 't2'].map((id) => byId<Tab>(page, id).active)).to.deep.equal(['r1', 'r2'].map((id) => byId<Tab>(page, id).active));
    expect(sel.value).to.equal(rsel.value);
    expect(shown(sel)).to.equal(shown(rsel));
    expect(tabs.shadowRoot!.querySelector('[role=tablist]')!.getAttribute('data-active')).to.equal(
      rtabs.shadowRoot!.querySelector('[role=tablist]')!.getAttribute('data-active'),
    );
    const tagsOf = (list: string[]): string[] => list.map((s) => s.split('#')[0]!);
    const clientOrder = page.win.__islands!.updated;
    expect(tagsOf(tabsGroup(hydratedOrder)), 'the order of first updates').to.deep.equal(tagsOf(tabsGroup(clientOrder)));
    expect(tagsOf(selectGroup(hydratedOrder))).to.deep.equal(tagsOf(selectGroup(clientOrder)));
  });

  it('a client-only parent (ssr="none") waits for its children too', async () => {
    const page = await loadPage(`${site}/group-client`);
    const sel = byId<Select>(page, 'sel');
    await event(page, 'sel');
    await event(page, 'o2');
    await sel.updateComplete;
    expect(sel.value).to.equal('b');
    expect(shown(sel)).to.equal('Banana');
  });

  it('a child with hydrate="none" stays out of the group; a parent with hydrate="none" groups nothing', async () => {
    const page = await loadPage(`${site}/group-none`);
    await event(page, 'tabs');
    await event(page, 't1');
    const solo = await event(page, 'solo');
    expect(solo.detail.strategy, 'its own strategy').to.equal('load');
    await frames(page.win, 3);
    expect(byId(page, 't2').hasAttribute('defer-hydration'), 'the none child is not hydrated').to.equal(true);
    expect(byId(page, 'static').hasAttribute('defer-hydration'), 'the none parent is not hydrated').to.equal(true);
    expect(page.win.__atollEvents.map((e) => e.id).sort()).to.deep.equal(['solo', 't1', 'tabs']);
  });
});
