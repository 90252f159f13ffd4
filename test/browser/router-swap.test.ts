/// <reference types="mocha" />
/**
 * The client router's swap (islands/router-swap.ts) on hand-written pages,
 * in a real browser: kept instances stay the same nodes and are never
 * removed from the document when already in place (no disconnect, focus
 * kept inside them), the nodes around them are replaced or updated, a
 * placeholder whose instance is gone refuses the swap, and the head is
 * merged (title, metas, import map entries) without running scripts.
 */
import { expect } from '@esm-bundle/chai';
import { liveInstances, mergeHead, swapBody, UI_ATTR } from '../../islands/router-swap.ts';

/** A fresh live body inside an iframe's document (so the test page's own body is left alone). */
async function frame(html: string): Promise<Document> {
  const iframe = document.createElement('iframe');
  iframe.srcdoc = '<!doctype html><html><head><title>Old</title></head><body></body></html>';
  const loaded = new Promise((resolve) => (iframe.onload = resolve));
  document.body.append(iframe);
  await loaded;
  const doc = iframe.contentDocument!;
  doc.body.setHTMLUnsafe(html);
  return doc;
}

const parse = (html: string): Document => (Document as unknown as { parseHTMLUnsafe(h: string): Document }).parseHTMLUnsafe(html);

/** Counts disconnections of the elements whose tags are given (a custom element that logs them). */
function watchDisconnects(doc: Document, tags: string[]): string[] {
  const log: string[] = [];
  const win = doc.defaultView as Window & typeof globalThis;
  for (const tag of tags) {
    win.customElements.define(
      tag,
      class extends win.HTMLElement {
        disconnectedCallback(): void {
          log.push(`${tag}#${this.getAttribute('atoll-key')}`);
        }
      },
    );
  }
  return log;
}

describe('router swap: kept instances', () => {
  it('keeps a kept instance as the same node, never disconnected, with focus inside it', async () => {
    const doc = await frame(
      '<header><x-nav atoll-key="nav"><input id="q"></x-nav></header><main class="home"><x-hero atoll-key="hero">hero</x-hero><p>old text</p></main><x-foot atoll-key="foot">foot</x-foot>',
    );
    const log = watchDisconnects(doc, ['x-nav', 'x-hero', 'x-foot', 'x-product']);
    const nav = doc.querySelector('x-nav')!;
    const foot = doc.querySelector('x-foot')!;
    const input = doc.getElementById('q') as HTMLInputElement;
    input.focus();
    input.value = 'typed';
    expect(doc.activeElement).to.equal(input);
    const next = parse(
      '<body class="product"><header><x-nav atoll-keep="nav"></x-nav></header><main class="product"><x-product atoll-key="p1">new</x-product><p>new text</p></main><x-foot atoll-keep="foot"></x-foot></body>',
    );
    const result = swapBody(doc.body, next.body)!;
    expect(result.kept.sort()).to.deep.equal(['foot', 'nav']);
    expect(result.moved).to.deep.equal([]);
    expect(doc.querySelector('x-nav')).to.equal(nav);
    expect(doc.querySelector('x-foot')).to.equal(foot);
    expect(doc.activeElement, 'focus stays in the kept instance').to.equal(input);
    expect(input.value).to.equal('typed');
    expect(log, 'only the instance that left was disconnected').to.deep.equal(['x-hero#hero']);
    expect(doc.querySelector('main')!.className, 'attributes of a kept ancestor are updated').to.equal('product');
    expect(doc.body.className).to.equal('product');
    expect(doc.querySelector('x-product')!.textContent).to.equal('new');
    expect(doc.querySelector('main p')!.textContent).to.equal('new text');
    expect(doc.querySelector('[atoll-keep]'), 'no placeholder is left').to.equal(null);
    expect(doc.body.innerHTML).to.equal(
      '<header><x-nav atoll-key="nav"><input id="q"></x-nav></header><main class="product"><x-product atoll-key="p1">new</x-product><p>new text</p></main><x-foot atoll-key="foot">foot</x-foot>',
    );
  });

  it('keeps the kept ancestors in place: a new sibling before a kept node is inserted, not the kept node moved', async () => {
    const doc = await frame('<main><section><x-a atoll-key="a">a</x-a></section></main>');
    const log = watchDisconnects(doc, ['x-a', 'x-b']);
    const section = doc.querySelector('section')!;
    const next = parse('<body><aside>new</aside><main id="m"><x-b atoll-key="b">b</x-b><section data-x="1"><x-a atoll-keep="a"></x-a></section></main></body>');
    swapBody(doc.body, next.body);
    expect(doc.querySelector('section')).to.equal(section);
    expect(section.getAttribute('data-x')).to.equal('1');
    expect(doc.querySelector('main')!.id).to.equal('m');
    expect(log).to.deep.equal([]);
    expect(doc.body.innerHTML).to.equal('<aside>new</aside><main id="m"><x-b atoll-key="b">b</x-b><section data-x="1"><x-a atoll-key="a">a</x-a></section></main>');
  });

  it('moves a kept instance whose surroundings changed tag (it reconnects, state kept) and reports it as moved', async () => {
    const doc = await frame('<div><x-a atoll-key="a">a</x-a></div>');
    const log = watchDisconnects(doc, ['x-a']);
    const a = doc.querySelector('x-a')! as HTMLElement & { state?: number };
    a.state = 42;
    const result = swapBody(doc.body, parse('<body><section><x-a atoll-keep="a"></x-a></section></body>').body)!;
    expect(result.moved).to.deep.equal(['a']);
    expect(doc.querySelector('section > x-a')).to.equal(a);
    expect(a.state).to.equal(42);
    expect(log).to.deep.equal(['x-a#a']);
  });

  it('an instance nested in a changed instance moves into the new one (the new host is taken with its new shadow root)', async () => {
    const doc = await frame('<x-outer atoll-key="o1"><x-inner atoll-key="i">inner</x-inner></x-outer>');
    doc.querySelector('x-outer')!.attachShadow({ mode: 'open' }).innerHTML = '<p>old shadow</p><slot></slot>';
    const inner = doc.querySelector('x-inner')!;
    const next = parse('<body><x-outer atoll-key="o2"><template shadowrootmode="open"><p>new shadow</p><slot></slot></template><x-inner atoll-keep="i"></x-inner></x-outer></body>');
    const result = swapBody(doc.body, next.body)!;
    const outer = doc.querySelector('x-outer')!;
    expect(outer.getAttribute('atoll-key')).to.equal('o2');
    expect(outer.shadowRoot!.querySelector('p')!.textContent).to.equal('new shadow');
    expect(outer.firstElementChild).to.equal(inner);
    expect(result.moved).to.deep.equal(['i']);
  });

  it('reuses equal static nodes and never an equal node that holds an instance or a shadow root', async () => {
    const doc = await frame('<p>same</p><x-a atoll-key="a">x</x-a><div><span>host</span></div>');
    doc.querySelector('div')!.attachShadow({ mode: 'open' }).innerHTML = 'old';
    const p = doc.querySelector('p')!;
    const a = doc.querySelector('x-a')!;
    const div = doc.querySelector('div')!;
    swapBody(doc.body, parse('<body><p>same</p><x-a atoll-key="a">x</x-a><div><span>host</span></div></body>').body);
    expect(doc.querySelector('p'), 'an equal static node stays').to.equal(p);
    expect(doc.querySelector('x-a'), 'an instance is never reused by equality').to.not.equal(a);
    expect(doc.querySelector('div'), 'a shadow host is never reused by equality').to.not.equal(div);
  });

  it('refuses (changing nothing) when a placeholder has no live instance, or one of another tag', async () => {
    const doc = await frame('<x-a atoll-key="a">a</x-a><p>stay</p>');
    const before = doc.body.innerHTML;
    expect(swapBody(doc.body, parse('<body><x-a atoll-keep="gone"></x-a></body>').body)).to.equal(undefined);
    expect(swapBody(doc.body, parse('<body><x-b atoll-keep="a"></x-b></body>').body)).to.equal(undefined);
    expect(swapBody(doc.body, parse('<body><x-a atoll-keep="a"></x-a><x-a atoll-keep="a"></x-a></body>').body)).to.equal(undefined);
    expect(doc.body.innerHTML).to.equal(before);
  });

  it("leaves the router's own nodes (progress bar, live region) in the body", async () => {
    const doc = await frame('<p>old</p>');
    const ui = doc.createElement('div');
    ui.setAttribute(UI_ATTR, '');
    doc.body.append(ui);
    swapBody(doc.body, parse('<body><p>new</p><p>two</p></body>').body);
    expect(ui.isConnected).to.equal(true);
    expect([...doc.body.children].map((e) => e.localName)).to.deep.equal(['p', 'p', 'div']);
  });

  it('lists the live instances of the light DOM only', async () => {
    const doc = await frame('<x-a atoll-key="a"><x-b atoll-key="b"></x-b></x-a><div></div>');
    doc.querySelector('div')!.attachShadow({ mode: 'open' }).innerHTML = '<x-c atoll-key="c"></x-c>';
    expect([...liveInstances(doc.body).keys()]).to.deep.equal(['a', 'b']);
  });
});

describe('router swap: the head', () => {
  it('replaces title and page metas, keeps equal ones, adds new import map entries as absolute URLs, runs no script', async () => {
    const doc = await frame('');
    doc.head.insertAdjacentHTML('beforeend', '<meta name="description" content="old"><meta name="viewport" content="width=device-width"><link rel="canonical" href="/old">');
    const viewport = doc.head.querySelector('meta[name=viewport]');
    const next = parse(
      '<html lang="fr"><head><title>New title</title><meta name="viewport" content="width=device-width"><meta name="description" content="new"><meta property="og:title" content="og">' +
        '<script type="importmap" data-atoll>{"imports":{"@atoll/x-old":"/elsewhere.js","@atoll/x-new":"/_atoll/assets/x-new-1.js"}}</script>' +
        '<link rel="modulepreload" href="/_atoll/assets/x-new-1.js"><script>window.ran = true</script></head><body></body></html>',
    );
    const imports: Record<string, string> = { '@atoll/x-old': 'http://example.test/x-old.js' };
    mergeHead(doc, next, imports, 'http://example.test/products/1', 'n0nce');
    expect(doc.title).to.equal('New title');
    expect(doc.head.querySelector('meta[name=description]')!.getAttribute('content')).to.equal('new');
    expect(doc.head.querySelector('meta[property="og:title"]')).to.not.equal(null);
    expect(doc.head.querySelector('link[rel=canonical]'), 'a canonical link the new page lacks is gone').to.equal(null);
    expect(doc.head.querySelector('meta[name=viewport]'), 'an equal meta stays the same node').to.equal(viewport);
    expect(doc.documentElement.lang).to.equal('fr');
    expect(imports).to.deep.equal({ '@atoll/x-old': 'http://example.test/x-old.js', '@atoll/x-new': 'http://example.test/_atoll/assets/x-new-1.js' });
    const preload = doc.head.querySelector<HTMLLinkElement>('link[rel=modulepreload]')!;
    expect(preload.href).to.equal('http://example.test/_atoll/assets/x-new-1.js');
    expect(preload.nonce).to.equal('n0nce');
    expect((doc.defaultView as Window & { ran?: boolean }).ran).to.equal(undefined);
    expect(doc.head.querySelectorAll('script').length, 'no script is copied').to.equal(0);
  });
});

describe('router swap: the head of real pages', () => {
  it('changes only the page-owned head nodes: the icon, stylesheets, charset, viewport and equal nodes stay the same nodes; merging the same page again changes nothing', async () => {
    const get = async (path: string): Promise<Document> => parse(await (await fetch(`/atoll/demo${path}`)).text());
    const [home, kitchen] = await Promise.all([get('/home'), get('/category/kitchen')]);
    const doc = await frame('');
    // The live head: the first page's (scripts set this way never run).
    doc.head.innerHTML = home.head.innerHTML;
    const icon = doc.head.querySelector('link[rel=icon]');
    expect(icon, 'the demo layout has an icon').to.not.equal(null);
    const stay = [...doc.head.querySelectorAll('link[rel=icon],link[rel=stylesheet],style,meta[charset],meta[name=viewport]')];
    const describe = (n: Node): string => (n.nodeType === 1 ? (n as Element).outerHTML.slice(0, 80) : `#${n.nodeName}`);
    const observer = new MutationObserver(() => {});
    observer.observe(doc.head, { childList: true, subtree: true, attributes: true, characterData: true });
    /** The elements added, removed or changed since the last call. */
    const changes = (): string[] =>
      observer
        .takeRecords()
        .flatMap((r) => (r.type === 'childList' ? [...r.addedNodes, ...r.removedNodes] : [r.target]))
        .filter((n) => n.nodeType === 1)
        .map(describe);
    const base = new URL('/atoll/demo/category/kitchen', location.href).href;
    mergeHead(doc, kitchen, {}, base, '');
    const changed = changes();
    for (const n of stay) expect(n.isConnected, `${describe(n)} stays`).to.equal(true);
    expect(doc.head.querySelector('link[rel=icon]'), 'the icon is the same node (a re-inserted icon is fetched again)').to.equal(icon);
    expect(changed.length, 'the title changes at least').to.be.greaterThan(0);
    const owned = /^<(title|meta (name|property)=|link rel="(canonical|alternate|modulepreload)"|script type="application\/ld\+json")/;
    for (const c of changed) expect(c, 'only page-owned nodes change').to.match(owned);
    expect(doc.title).to.equal(kitchen.title);
    mergeHead(doc, kitchen, {}, base, '');
    expect(changes(), 'the same page again: no node changes').to.deep.equal([]);
    observer.disconnect();
  });
});

describe('router: parsing a page', () => {
  it('keeps every comment (Lit hydrates from its <!--lit-part--> markers) and attaches declarative shadow roots', async () => {
    const { parsePage } = await import('../../islands/router.ts');
    const doc = parsePage('<!doctype html><html lang="de"><body><x-a><template shadowrootmode="open"><!--lit-part abc--><p>a<!--x--></p><!--/lit-part--></template><!--light--></x-a></body></html>');
    const host = doc.querySelector('x-a')!;
    expect(host.shadowRoot, 'the declarative shadow root is attached').to.not.equal(null);
    expect(host.shadowRoot!.firstChild!.nodeType).to.equal(Node.COMMENT_NODE);
    expect((host.shadowRoot!.firstChild as Comment).data).to.equal('lit-part abc');
    expect(host.shadowRoot!.innerHTML).to.equal('<!--lit-part abc--><p>a<!--x--></p><!--/lit-part-->');
    expect(host.lastChild!.nodeType, 'light-DOM comments too').to.equal(Node.COMMENT_NODE);
    expect(doc.querySelector('template'), 'no template left').to.equal(null);
    expect(doc.documentElement.lang).to.equal('de');
  });
});
