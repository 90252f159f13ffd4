/**
 * renderToDocument (atoll/testing, Node side): server output as a happy-dom
 * document whose declarative shadow roots are real, nested shadow roots —
 * which happy-dom's own parser does not give.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Window } from 'happy-dom';
import { parse as decodeProps } from 'devalue';
import { attachDeclarativeShadowRoots, renderToDocument } from '../../testing/index.ts';
import { fixture } from '../helpers.ts';

const root = fixture('testing');

describe('renderToDocument', () => {
  test('happy-dom alone leaves declarative shadow roots as templates (why the kit attaches them)', () => {
    const window = new Window();
    const doc = new window.DOMParser().parseFromString('<x-a><template shadowrootmode="open"><p>in</p></template></x-a>', 'text/html');
    assert.equal(doc.querySelector('x-a')!.shadowRoot, null);
  });

  test('exposes nested shadow roots of one element rendered with attributes and data', async () => {
    const doc = await renderToDocument({ root, tag: 't-card', attributes: { name: 'Ada' }, data: { items: ['x', 'y'] } });
    const card = doc.querySelector('t-card')!;
    assert.ok(card.shadowRoot, 't-card has a shadow root');
    assert.equal(card.shadowRoot.querySelector('h2')!.textContent, 'Hello, Ada');
    assert.deepEqual([...card.shadowRoot.querySelectorAll('li')].map((li) => li.textContent), ['x', 'y']);
    const badge = card.shadowRoot.querySelector('t-badge')!;
    assert.equal(badge.shadowRoot!.querySelector('.pill')!.textContent, '2 items');
    assert.equal(doc.querySelectorAll('template[shadowrootmode]').length, 0, 'no template is left');
    assert.equal(card.shadowRoot.querySelectorAll('template').length, 0, 'none inside shadow roots either');
    assert.equal(card.hasAttribute('defer-hydration'), true);
    assert.deepEqual(decodeProps(card.querySelector(':scope > script[data-atoll-props]')!.textContent!), { items: ['x', 'y'] });
  });

  test('renders a route of the site with its layout and status', async () => {
    const doc = await renderToDocument({ root, route: '/card/Linus' });
    assert.equal(doc.status, 200);
    assert.equal(doc.title, 'Testing kit fixture');
    assert.equal(doc.querySelector('t-card')!.shadowRoot!.querySelector('h2')!.textContent, 'Hello, Linus');
    const missing = await renderToDocument({ root, route: '/nowhere' });
    assert.equal(missing.status, 404);
    assert.ok(missing.querySelector('p.not-found'));
  });

  test('renders a markup fragment, and rejects one that names no element of the site', async () => {
    const doc = await renderToDocument({ root, html: '<section><t-badge label="new"></t-badge></section>' });
    assert.equal(doc.querySelector('section > t-badge')!.shadowRoot!.querySelector('.pill')!.textContent, 'new');
    await assert.rejects(renderToDocument({ root, html: '<t-nope></t-nope>' }), /<t-nope> is not in the element registry/);
  });

  test('parses a string as is, attaching nested and closed roots as declared', async () => {
    const doc = await renderToDocument(
      '<x-a><template shadowrootmode="open"><x-b><template shadowrootmode="closed"><i>deep</i></template></x-b></template><span>light</span></x-a>',
    );
    const a = doc.querySelector('x-a')!;
    assert.equal(a.querySelector('span')!.textContent, 'light', 'light DOM stays');
    const b = a.shadowRoot!.querySelector('x-b')!;
    assert.equal(b.shadowRoot, null, 'a closed root is not exposed…');
    assert.equal(b.querySelector('template'), null, '…but attached');
    assert.equal(attachDeclarativeShadowRoots(doc), 0, 'attaching again does nothing');
  });
});
