/// <reference types="mocha" />
/**
 * Which clicks and form submissions the client router handles
 * (islands/router-links.ts), with real events dispatched in the page: links
 * inside open shadow roots count, and every case the browser must keep —
 * modifiers, other buttons, `target`, `download`, `data-atoll-reload` on
 * the link or an ancestor across shadow roots, another origin, Atoll's own
 * paths, a hash change, an already prevented event, POST and file forms.
 */
import { expect } from '@esm-bundle/chai';
import { clickTarget, submitTarget } from '../../islands/router-links.ts';

/** Dispatches a click on `el` and returns what the router would navigate to. */
function clickOn(el: Element, init: MouseEventInit = {}, prevent = false): string | undefined {
  let result: URL | undefined;
  const listener = (e: Event): void => {
    result = clickTarget(e as MouseEvent, location);
    e.preventDefault(); // the test page itself never navigates
  };
  if (prevent) el.addEventListener('click', (e) => e.preventDefault(), { once: true });
  addEventListener('click', listener, { once: true });
  el.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true, cancelable: true, button: 0, ...init }));
  return result?.href;
}

function submitOf(form: HTMLFormElement, submitter?: HTMLElement): string | undefined {
  let result: URL | undefined;
  form.addEventListener(
    'submit',
    (e) => {
      result = submitTarget(e as SubmitEvent, location);
      e.preventDefault();
    },
    { once: true },
  );
  form.requestSubmit(submitter as HTMLButtonElement | undefined);
  return result?.href;
}

describe('router: which links are handled', () => {
  let box: HTMLElement;
  beforeEach(() => {
    box = document.createElement('div');
    document.body.append(box);
  });
  afterEach(() => box.remove());

  const link = (attrs: string, parent: ParentNode = box): HTMLAnchorElement => {
    const holder = document.createElement('div');
    holder.innerHTML = `<a ${attrs}>go</a>`;
    const a = holder.firstElementChild as HTMLAnchorElement;
    parent.append(a);
    return a;
  };

  it('a plain same-origin link, also inside an open shadow root (found along the composed path)', () => {
    expect(clickOn(link('href="/products/1?x=1"'))).to.equal(new URL('/products/1?x=1', location.href).href);
    const host = document.createElement('x-host');
    box.append(host);
    const root = host.attachShadow({ mode: 'open' });
    const inner = link('href="/category/audio"', root);
    expect(clickOn(inner.appendChild(document.createElement('span')))).to.equal(new URL('/category/audio', location.href).href);
  });

  it('leaves modified clicks, other buttons and prevented clicks to the browser', () => {
    for (const init of [{ ctrlKey: true }, { metaKey: true }, { shiftKey: true }, { altKey: true }, { button: 1 }] as MouseEventInit[]) {
      expect(clickOn(link('href="/a"'), init), JSON.stringify(init)).to.equal(undefined);
    }
    expect(clickOn(link('href="/a"'), {}, true), 'already prevented').to.equal(undefined);
  });

  it('leaves target, download, another origin, non-http, Atoll paths and hash changes to the browser', () => {
    for (const attrs of [
      'href="/a" target="_blank"',
      'href="/a" target="frame"',
      'href="/a" download',
      'href="https://elsewhere.example/a"',
      'href="mailto:a@b.c"',
      'href="javascript:void 0"',
      'href="/_atoll/assets/x.js"',
      'href="/shop/_atoll/embed.js"',
      `href="${location.pathname}${location.search}#part"`,
      'name="no-href"',
    ]) {
      expect(clickOn(link(attrs)), attrs).to.equal(undefined);
    }
    expect(clickOn(link('href="/a" target="_self"')), '_self is this context').to.not.equal(undefined);
  });

  it('honours data-atoll-reload on the link or any ancestor, across shadow roots', () => {
    expect(clickOn(link('href="/a" data-atoll-reload'))).to.equal(undefined);
    const region = document.createElement('section');
    region.setAttribute('data-atoll-reload', '');
    box.append(region);
    expect(clickOn(link('href="/a"', region))).to.equal(undefined);
    const host = document.createElement('x-host');
    host.setAttribute('data-atoll-reload', '');
    box.append(host);
    expect(clickOn(link('href="/a"', host.attachShadow({ mode: 'open' })))).to.equal(undefined);
  });
});

describe('router: which form submissions are handled', () => {
  let box: HTMLElement;
  beforeEach(() => {
    box = document.createElement('div');
    document.body.append(box);
  });
  afterEach(() => box.remove());

  const form = (html: string): HTMLFormElement => {
    box.innerHTML = html;
    return box.querySelector('form')!;
  };

  it('a GET form: the action with its fields as the query (the submitter and its formaction count)', () => {
    expect(submitOf(form('<form action="/home"><input name="q" value="lamp &amp; desk"><button name="go" value="1">Search</button></form>'), box.querySelector('button')!)).to.equal(
      new URL('/home?q=lamp+%26+desk&go=1', location.href).href,
    );
    const f = form('<form action="/home" method="get"><input name="q" value="x"><button formaction="/search">s</button></form>');
    expect(submitOf(f, box.querySelector('button')!)).to.equal(new URL('/search?q=x', location.href).href);
  });

  it('leaves POST, dialog, a target, a file field, data-atoll-reload and another origin to the browser', () => {
    for (const html of [
      '<form action="/a" method="post"><input name="q"></form>',
      '<form action="/a" method="dialog"><input name="q"></form>',
      '<form action="/a" target="_blank"><input name="q"></form>',
      '<form action="/a"><input type="file" name="f"></form>',
      '<form action="/a" data-atoll-reload><input name="q"></form>',
      '<form action="https://elsewhere.example/a"><input name="q"></form>',
    ]) {
      expect(submitOf(form(html)), html).to.equal(undefined);
    }
    const f = form('<form action="/a"><button formmethod="post">p</button><button formtarget="_blank">t</button></form>');
    const [post, blank] = box.querySelectorAll('button');
    expect(submitOf(f, post!), 'formmethod=post').to.equal(undefined);
    expect(submitOf(f, blank!), 'formtarget=_blank').to.equal(undefined);
  });
});
