/**
 * The element-case table (issue 11): Lit element cases on Lit's own SSR test
 * categories, each rendered twice — by Atoll (test/fixtures/lit-cases, a
 * route per case, hydrated by Atoll's loader with hydrate="load") and by
 * plain @lit-labs/ssr + lit-element-hydrate-support (plain-lit-plugin.ts) —
 * and compared: the DOM after SSR (parsed, no script), node identity through
 * hydration, the DOM after hydration and after an update (with per-case
 * probes of values the DOM does not show), and no console or hydration
 * error. What is normalized away, and why: lit-cases-helpers.ts.
 */
import { expect } from '@esm-bundle/chai';
import { runSide, type CaseSpec, type SideResult } from './lit-cases-helpers.ts';

const shadow = (host: Element): ShadowRoot => host.shadowRoot!;
const $ = (host: Element, selector: string): any => shadow(host).querySelector(selector);
/** Type tags that work across realms (the page's Date is not the test's Date). */
const tag = (v: unknown): string => Object.prototype.toString.call(v).slice(8, -1);

/** The table: route name (layouts/index.html) → what it tests, its update and its probe. */
const cases: Record<string, CaseSpec> = {
  text: { what: 'text bindings', update: (el) => (el.name = 'Lit') },
  'text-escape': { what: 'escaping: entities, markup characters and non-ASCII in an attribute and text', probe: (el) => el.name, update: (el) => (el.name = '<i>&amp;</i>') },
  'text-empty': { what: 'a text binding that starts empty', update: (el) => (el.message = 'now filled') },
  attr: { what: 'attribute bindings, several in one attribute', update: (el) => Object.assign(el, { href: '/b', label: 'b', rank: 3 }) },
  prop: {
    what: 'property bindings on native elements',
    probe: (el) => ({ value: $(el, 'input').value, maxLength: $(el, 'input').maxLength, title: $(el, 'output').title }),
    update: (el) => Object.assign(el, { value: 'changed', max: 4 }),
  },
  bool: { what: 'boolean attribute bindings', probe: (el) => $(el, 'button').disabled, update: (el) => Object.assign(el, { off: false, open: true }) },
  event: {
    what: 'event bindings work after hydration',
    probe: (el) => el.count,
    update: (el) => {
      $(el, 'button').click();
      $(el, 'button').click();
      const input = $(el, 'input');
      input.value = 'typed';
      input.dispatchEvent(new Event('input'));
    },
  },
  svg: { what: 'an svg template with bindings', update: (el) => (el.r = 12) },
  slot: {
    what: 'default slot with mixed light DOM',
    probe: (el) => $(el, 'slot').assignedNodes().map((n: Node) => n.nodeName),
    update: (el) => (el.heading = 'changed'),
  },
  'slot-named': {
    what: 'named slots and a fallback',
    probe: (el) => [...shadow(el).querySelectorAll('slot')].map((s) => (s as HTMLSlotElement).assignedElements().map((e) => e.localName)),
    update: (el) => (el.wide = true),
  },
  'slot-fallback': { what: 'slot fallback content with bindings', update: (el) => (el.what = 'a changed host') },
  'slot-island': {
    what: 'a light-DOM island slotted into another (layout nesting)',
    probe: (el, win) => ({ order: win.__lcOrder, slotted: $(el, 'slot[name=badge]').assignedElements().map((e: Element) => e.localName) }),
    update: (el) => {
      el.title = 'Changed';
      el.querySelector('lc-card-badge').level = 5;
    },
  },
  repeat: {
    what: 'repeat with keys over data() rows',
    probe: (el) => [...shadow(el).querySelectorAll('li')].map((li) => li.textContent),
    update: (el) => (el.rows = [...el.rows].reverse()),
  },
  maps: { what: 'classMap and styleMap', update: (el) => Object.assign(el, { active: true, size: 20 }) },
  ifdef: { what: 'ifDefined', update: (el) => Object.assign(el, { link: '/x', hint: undefined }) },
  live: {
    what: 'live() resets what the user changed',
    probe: (el) => [...shadow(el).querySelectorAll('input')].map((i) => (i as HTMLInputElement).value),
    update: async (el) => {
      for (const i of shadow(el).querySelectorAll('input')) (i as HTMLInputElement).value = 'user typing';
      el.requestUpdate();
    },
  },
  unsafe: { what: 'unsafeHTML', update: (el) => (el.markup = '<strong>new</strong> markup') },
  guard: {
    what: 'guard runs its callback only when its dependencies change',
    probe: (el) => el.calls,
    update: (el) => (el.other = 'y'),
  },
  cache: { what: 'cache switching templates', update: (el) => Object.assign(el, { detail: true, n: 2 }) },
  when: { what: 'when, choose, map, join, range', update: (el) => Object.assign(el, { signed: true, kind: 'c', count: 1 }) },
  reflect: {
    what: 'reflected properties (server reflects defaults)',
    probe: (el) => [el.label, el.count, el.on, el.mode],
    update: (el) => Object.assign(el, { label: 'new', count: 4, on: false, mode: 'busy' }),
  },
  converter: {
    what: 'custom attribute converters and the Object converter',
    probe: (el) => [el.tags, el.point, el.shout],
    update: (el) => (el.tags = ['blue']),
  },
  'attr-in': {
    what: 'layout attributes: Number, mixed case, unobserved',
    probe: (el) => [el.count, el.camelName],
    update: (el) => el.setAttribute('count', '7'),
  },
  internals: { what: 'ElementInternals ARIA rendered as attributes', probe: (el) => el.internals.role },
  styles: {
    what: 'static styles',
    probe: (el, win) => {
      const p = $(el, 'p');
      const style = win.getComputedStyle(p);
      return [style.color, style.fontWeight, style.textTransform];
    },
    update: (el) => (el.loud = false),
  },
  focus: {
    what: 'shadowRootOptions.delegatesFocus',
    probe: (el) => [shadow(el).delegatesFocus, shadow(el).activeElement?.localName ?? null],
    update: (el) => el.focus(),
  },
  closed: {
    what: 'closed shadow root',
    litReplacesNodes:
      'lit-element-hydrate-support hydrates only a root it finds as this.shadowRoot; for a closed one it calls attachShadow, which empties the declarative root, and renders afresh',
    probe: (el) => [el.shadowRoot === null, el.internals.shadowRoot?.textContent],
    update: (el) => (el.secret = 'still closed'),
  },
  'ctx-shadow': { what: '@lit/context: consumer in the provider’s shadow root', update: (el) => (el.theme = 'light') },
  'ctx-layout': { what: '@lit/context: consumer nested in the provider in the layout', update: (el) => (el.theme = 'light') },
  'ask-shadow': { what: 'an event during SSR, within one shadow root', probe: (el) => el.asked },
  'ask-layout': { what: 'an event during SSR, across layout nesting', probe: (el) => el.asked },
  data: {
    what: 'objects and arrays from data()',
    probe: (el) => [el.user, el.grid, el.level],
    update: (el) => Object.assign(el, { grid: [...el.grid, [5, 6]], level: 4 }),
  },
  'data-rich': {
    what: 'undefined, Date, Map, Set and a shared object from data()',
    probe: (el) => ({
      note: el.note === undefined ? 'undefined' : tag(el.note),
      when: tag(el.when),
      prices: tag(el.prices),
      seen: tag(el.seen),
      shared: el.first === el.second,
    }),
    update: (el) => (el.seen = new Set([...el.seen, 'z'])),
  },
  'data-bigint': { what: 'a BigInt from data()', probe: (el) => [typeof el.big, String(el.big)], update: (el) => (el.big += 1n) },
  nest: { what: 'elements nested three deep in shadow roots', update: (el) => (el.label = 'changed label') },
  'light-children': {
    what: 'light-DOM child islands hydrate after their parent (client-render order)',
    probe: (el, win) => ({ order: win.__lcOrder, ready: el.ready }),
    update: (el) => (el.querySelector('lc-list-item').label = 'uno'),
  },
  'will-update': { what: 'willUpdate during SSR', probe: (el) => el.fullName, update: (el) => (el.last = 'Lovelace') },
  lifecycle: {
    what: 'lifecycle callbacks in the browser',
    probe: (el) => [...el.calls],
    update: (el) => (el.step = 3),
  },
  request: { what: 'requestUpdate after an in-place change', update: (el) => el.add('two') },
  until: {
    what: 'until: server placeholder, resolved in the browser',
    // The promise settles only when released here, so "after hydration" is always the placeholder on both sides.
    update: (_el, win) => {
      win.dispatchEvent(new Event('lc-until-release'));
      return new Promise((resolve) => win.setTimeout(resolve, 0));
    },
  },
  ref: {
    what: 'ref directives (object and callback) point at the server nodes',
    probe: (el) => [el.field.value === shadow(el).querySelector('input'), [...el.seen]],
    update: (el) => (el.label = 'renamed'),
  },
  bare: { what: 'no render(): reflected properties only', probe: (el) => [el.level, el.active], update: (el) => Object.assign(el, { level: 8, active: false }) },
};

describe('Lit element cases: Atoll vs plain @lit-labs/ssr', function () {
  this.timeout(30_000);

  // (A tag missing from all-elements.ts shows up as a difference after SSR: plain Lit leaves it unrendered.)
  it('the table covers every case route of the layout', async () => {
    const layout = await (await fetch('/test/fixtures/lit-cases/layouts/index.html')).text();
    const routes = [...layout.matchAll(/<atoll-route path="\/case\/([a-z0-9-]+)">/g)].map((m) => m[1]);
    expect(routes).to.have.members(Object.keys(cases));
    expect(routes.length).to.be.at.least(30);
  });

  for (const [name, spec] of Object.entries(cases)) {
    describe(`${name}: ${spec.what}`, () => {
      let plain: SideResult;
      let atoll: SideResult;
      before(async () => {
        plain = await runSide('plain', name, spec);
        atoll = await runSide('atoll', name, spec);
      });
      it('DOM after SSR (parsed, before any script) equals plain Lit', () => {
        expect(atoll.ssr.join('\n')).to.equal(plain.ssr.join('\n'));
      });
      it('hydration keeps every server node (no replaced, added or moved node)', () => {
        if (spec.litReplacesNodes !== undefined) {
          expect(plain.identity, `plain Lit replaces nodes here (${spec.litReplacesNodes}); if it no longer does, drop litReplacesNodes`).not.to.deep.equal([]);
          expect(atoll.identity, 'Atoll does what plain Lit does').to.deep.equal(plain.identity);
          return;
        }
        expect(plain.identity, 'plain Lit').to.deep.equal([]);
        expect(atoll.identity, 'Atoll').to.deep.equal([]);
      });
      it('DOM and values after hydration and after an update equal plain Lit', () => {
        expect(atoll.hydrated.join('\n'), 'after hydration').to.equal(plain.hydrated.join('\n'));
        expect(atoll.probeHydrated, 'probe after hydration').to.deep.equal(plain.probeHydrated);
        expect(atoll.updated.join('\n'), 'after the update').to.equal(plain.updated.join('\n'));
        expect(atoll.probeUpdated, 'probe after the update').to.deep.equal(plain.probeUpdated);
      });
      it('nothing logged, no page or hydration error', () => {
        expect(plain.errors, 'plain Lit').to.deep.equal([]);
        expect(atoll.errors, 'Atoll').to.deep.equal([]);
      });
    });
  }
});
